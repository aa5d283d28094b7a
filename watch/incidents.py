"""Incidents from sweeps: one per (rule, object) while it lasts, opened after N consecutive bad
observations, resolved by themselves on recovery; acknowledged and snoozed by people.

    sweep_observed(result=SweepResult) --> evaluate(result) --> incident_event(notice=Notice)

`evaluate` is idempotent per (tenant, sweep key): its first write is an `AlertSweep` row under
a unique constraint, in the same transaction as everything it changes, so a sweep redone by
another worker (or delivered twice) counts once, and a worker that dies mid-way leaves nothing
counted. It locks the tenant's active incidents (in id order) before changing them; a new one is
created under the partial unique constraint `incident_active_once`, so two workers never open
the same incident twice. `incident_event` is sent inside that transaction, once per open and
once per resolve: its receivers store what they will do (the notifications' delivery rows) in it
and act on commit, so a crash anywhere loses no notice and a redone sweep repeats none.

Resolving needs knowledge: an object's good state resolves its incident when the sweep read that
kind in full (`SweepResult.read_kinds`), and so does its absence from such a read (the object is
gone). The one-object kinds (tenant, credentials, scheduled sync) resolve on any good observation
(it is the whole read), but never by absence unless the result lists their kind as read: a
scheduled sync's result says nothing of the groups, nor a sweep of the scheduled syncs; and a
scheduled sync's result, about one schedule, never resolves another schedule's incident.

Snooze: quiet until a time. The incident stays open, out of the overview's "needs attention"
count (the list's "Snoozed" filter shows it); it still resolves, and its resolve notice is
still sent (people want to know it is over). The watch sends no reminders of open incidents, so
a snooze has nothing else to mute; an outage that returns after resolving is a new incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, TargetType
from audit.services import Actor, Target, audit_local_change
from kernel.errors import Refusal
from tenants.models import ManagedTenant
from watch.alert_rules import RULES, Effective, effective_rules, rules_for_kind
from watch.models import (
    ACTIVE_STATES,
    AlertSweep,
    Delivery,
    Incident,
    IncidentState,
    Severity,
)
from watch.observations import Notice, ObjectKind, Observation, SweepResult, incident_event

# Kinds with one object per tenant: the observation itself is the full read.
WHOLE_READ_KINDS = frozenset({ObjectKind.TENANT, ObjectKind.CREDENTIAL, ObjectKind.SCHEDULED_SYNC})
# Kinds reported one object per result (a schedule's run): their absence says nothing.
ONE_PER_RESULT_KINDS = frozenset({ObjectKind.SCHEDULED_SYNC})


@dataclass(frozen=True)
class Evaluation:
    """What one sweep did to the tenant's incidents (for the task's recorded run and tests)."""

    counted: bool  # False: this sweep key was counted before
    opened: list[int]
    resolved: list[int]
    pending: int


def trusts_state(result: SweepResult, kind: str) -> bool:
    """Whether a good state of `kind` in this result is recovery: the sweep read that kind in
    full, or the kind is one object whose observation is the whole read."""
    return kind in result.read_kinds or kind in WHOLE_READ_KINDS


def read_in_full(result: SweepResult, kind: str) -> bool:
    """Whether an object of `kind` missing from this result is gone: only when the sweep says
    it read that kind in full (a scheduled sync's result says nothing of the groups). A
    scheduled sync's result is about its one schedule, never the tenant's others."""
    return kind in result.read_kinds and kind not in ONE_PER_RESULT_KINDS


def _entry(event: str, at: datetime, **facts: Any) -> dict[str, Any]:
    """One timeline entry, small: the event, its time, and only the facts it has."""
    return {"event": event, "at": at.isoformat(), **{k: v for k, v in facts.items() if v}}


def _seen(incident: Incident, at: datetime, sweep_key: str) -> None:
    """One more bad observation: the count, and the timeline's last "seen" entry grows (a long
    outage is one entry per stretch between other events, not one per sweep)."""
    incident.seen += 1
    incident.last_seen_at = at
    incident.last_sweep_key = sweep_key
    last = incident.timeline[-1] if incident.timeline else None
    if last and last["event"] == "seen":
        last.update(count=incident.seen, until=at.isoformat())
    else:
        incident.timeline.append(_entry("seen", at, count=incident.seen))


def _tenant_name(tenant_id: str) -> str:
    tenant = ManagedTenant.objects.filter(tenant_id=tenant_id).first()
    return tenant.label if tenant is not None else ""


def evaluate(result: SweepResult) -> Evaluation:
    """Count one sweep against the tenant's incidents (idempotent per sweep key).

    An observation's own tenant owns its incident: the watch's credentials belong to the home
    tenant whichever tenant's sweep saw them, so they are one incident, not one per tenant.
    """
    now = result.observed_at
    with transaction.atomic():
        try:
            with transaction.atomic():
                AlertSweep.objects.create(
                    tenant_id=result.tenant_id,
                    sweep_key=result.sweep_key,
                    evaluated_at=timezone.now(),
                )
        except IntegrityError:
            return Evaluation(counted=False, opened=[], resolved=[], pending=0)
        active = _lock_active(result)
        rules: dict[str, dict[str, Effective]] = {}
        names: dict[str, str] = {}
        opened: list[Incident] = []
        resolved: list[Incident] = []
        observed: set[tuple[str, str, str]] = set()
        for observation in result.observations:
            tenant_id = observation.tenant_id or result.tenant_id
            observed.add((tenant_id, observation.kind, observation.object_id))
            if tenant_id not in rules:
                rules[tenant_id] = effective_rules(tenant_id)
                names[tenant_id] = _tenant_name(tenant_id)
            for rule in rules_for_kind(observation.kind):
                key = (tenant_id, rule.key, observation.kind, observation.object_id)
                outcome, incident = _observe(
                    rules[tenant_id][rule.key],
                    observation,
                    active.get(key),
                    result,
                    tenant=(tenant_id, names[tenant_id]),
                )
                if incident is not None:
                    active[key] = incident
                if outcome == "opened":
                    opened.append(incident)
                elif outcome == "resolved":
                    resolved.append(incident)
        for (tenant_id, _rule, kind, object_id), incident in active.items():
            gone = (
                tenant_id == result.tenant_id
                and (tenant_id, kind, object_id) not in observed
                and read_in_full(result, kind)
            )
            still_active = incident.pk is not None and incident.state in ACTIVE_STATES
            if gone and still_active and _recover(incident, now, reason="gone"):
                resolved.append(incident)
        pending = Incident.objects.filter(
            tenant_id=result.tenant_id, state=IncidentState.PENDING
        ).count()
        for incident in [*opened, *resolved]:
            # Inside the transaction: the notifications store their deliveries with the change
            # and send them on commit, so a worker that dies anywhere loses no notice and a
            # redone sweep sends none twice.
            incident_event.send(sender=Incident, notice=notice_for(incident))
        _prune(result.tenant_id)
    return Evaluation(
        counted=True,
        opened=[i.pk for i in opened],
        resolved=[i.pk for i in resolved],
        pending=pending,
    )


def _lock_active(result: SweepResult) -> dict[tuple[str, str, str, str], Incident]:
    """The active incidents this result may change, locked in id order (so two workers lock
    alike and never deadlock): the tenant's own, and those of the objects it saw elsewhere
    (the home tenant's credentials)."""
    elsewhere = Q()
    for observation in result.observations:
        if observation.tenant_id and observation.tenant_id != result.tenant_id:
            elsewhere |= Q(
                tenant_id=observation.tenant_id,
                object_kind=observation.kind,
                object_id=observation.object_id,
            )
    incidents = (
        Incident.objects.select_for_update()
        .filter(Q(tenant_id=result.tenant_id) | elsewhere, state__in=ACTIVE_STATES)
        .order_by("id")
    )
    return {(i.tenant_id, i.rule, i.object_kind, i.object_id): i for i in incidents}


def _observe(
    effective: Effective,
    observation: Observation,
    incident: Incident | None,
    result: SweepResult,
    *,
    tenant: tuple[str, str],
) -> tuple[str, Incident | None]:
    """One rule on one observation: "opened", "resolved" or "" (nothing to tell anyone), and
    the incident it touched."""
    now = result.observed_at
    if incident is not None and (incident.pk is None or incident.state == IncidentState.RESOLVED):
        incident = None  # resolved earlier in this same sweep (the object listed twice)
    judged = effective.rule.judge(observation, now) if effective.enabled else None
    if judged is None:
        # Fine (or the rule is off): recovery, if this kind was read in full.
        if incident is not None and trusts_state(result, observation.kind):
            reason = "recovered" if effective.enabled else "rule turned off"
            return ("resolved" if _recover(incident, now, reason=reason) else ""), incident
        return "", incident
    severity = effective.severity_for(judged)
    if incident is None:
        incident = _create(effective, observation, result, tenant, severity)
    else:
        _seen(incident, now, result.sweep_key)
        incident.object_name = observation.name or incident.object_name
        incident.details = observation.details
        incident.summary = effective.rule.summary(observation)[:500]
        if severity != incident.severity:
            incident.timeline.append(
                _entry("severity", now, was=incident.severity, now=str(severity))
            )
            incident.severity = severity
    opens = incident.state == IncidentState.PENDING and incident.seen >= effective.consecutive
    if opens:
        incident.state = IncidentState.OPEN
        incident.opened_at = now
        incident.timeline.append(_entry("opened", now, count=incident.seen))
    incident.save()
    return ("opened" if opens else ""), incident


def _create(
    effective: Effective,
    observation: Observation,
    result: SweepResult,
    tenant: tuple[str, str],
    severity: Severity,
) -> Incident:
    """A new pending incident; the partial unique constraint keeps it one per key (another
    worker's, committed meanwhile, is taken instead)."""
    fields = {
        "rule": effective.rule.key,
        "tenant_id": tenant[0],
        "object_kind": observation.kind,
        "object_id": observation.object_id,
    }
    incident = Incident(
        **fields,
        tenant_name=tenant[1],
        object_name=observation.name,
        severity=severity,
        state=IncidentState.PENDING,
        summary=effective.rule.summary(observation)[:500],
        details=observation.details,
        first_seen_at=result.observed_at,
        last_seen_at=result.observed_at,
        last_sweep_key=result.sweep_key,
    )
    incident.seen = 0
    _seen(incident, result.observed_at, result.sweep_key)
    try:
        with transaction.atomic():
            incident.save()
    except IntegrityError:
        incident = (
            Incident.objects.select_for_update().filter(state__in=ACTIVE_STATES, **fields).get()
        )
        _seen(incident, result.observed_at, result.sweep_key)
    return incident


def _recover(incident: Incident, now: datetime, *, reason: str) -> bool:
    """The object is fine (or gone): an open incident resolves (True: tell people); a pending
    one is dropped (it never opened: flapping, nobody was told)."""
    if incident.state == IncidentState.PENDING:
        incident.delete()
        return False
    incident.state = IncidentState.RESOLVED
    incident.resolved_at = now
    incident.timeline.append(_entry("resolved", now, reason=reason))
    incident.save()
    return True


def _prune(tenant_id: str) -> None:
    """Counted sweep keys are needed only while a sweep may be redone: keep a few days."""
    cutoff = timezone.now() - timedelta(days=settings.WATCH_ALERT_SWEEPS_KEPT_DAYS)
    AlertSweep.objects.filter(tenant_id=tenant_id, evaluated_at__lt=cutoff).delete()


def prune_resolved(*, now: datetime | None = None) -> dict[str, int]:
    """Forget incidents resolved longer ago than WATCH_HISTORY_RETENTION_DAYS, with their
    deliveries (who acknowledged or snoozed one stays in the audit log)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WATCH_HISTORY_RETENTION_DAYS)
    old = Incident.objects.filter(state=IncidentState.RESOLVED, resolved_at__lt=cutoff)
    deliveries, _ = Delivery.objects.filter(incident_id__in=old.values("pk")).delete()
    incidents, _ = old.delete()
    return {"incidents": incidents, "deliveries": deliveries}


def incident_url(incident: Incident) -> str:
    base = settings.WATCH_PUBLIC_URL.rstrip("/")
    path = reverse("watch:incident", kwargs={"incident_id": incident.pk})
    return f"{base}{path}" if base else ""


def notice_for(incident: Incident, event: str | None = None) -> Notice:
    return Notice(
        event=event or ("resolved" if incident.state == IncidentState.RESOLVED else "opened"),
        incident_id=incident.pk,
        tenant_id=incident.tenant_id,
        tenant_name=incident.tenant_name,
        rule=incident.rule,
        severity=incident.severity,
        object_kind=incident.object_kind,
        object_id=incident.object_id,
        object_name=incident.object_name,
        summary=incident.summary,
        opened_at=incident.opened_at or incident.first_seen_at,
        resolved_at=incident.resolved_at,
        url=incident_url(incident),
    )


# -- people: acknowledge and snooze (local changes, audited) -------------------------------------


class IncidentClosed(Refusal):
    """The incident resolved meanwhile: nothing to acknowledge or snooze (409, the one fault
    path: a page, or a toast under htmx)."""


def _record(actor: Actor, action: str, incident: Incident, **values: object) -> None:
    rule = RULES.get(incident.rule)
    name = f"{rule.title if rule else incident.rule}: {incident.object_name or incident.object_id}"
    target = Target(type=TargetType.INCIDENT, id=str(incident.pk), name=name)
    audit_local_change(actor=actor, action=action, target=target, after=values)


def _locked_open(incident_id: int) -> Incident:
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    if incident.state != IncidentState.OPEN:
        raise IncidentClosed(
            f"This incident is {incident.get_state_display().lower()}: nothing to acknowledge "
            "or snooze."
        )
    return incident


def acknowledge(*, incident_id: int, actor: Actor, note: str = "") -> Incident:
    """Someone is on it; audited."""
    now = timezone.now()
    with transaction.atomic():
        incident = _locked_open(incident_id)
        incident.acknowledged_at = now
        incident.acknowledged_by = actor.upn
        incident.timeline.append(_entry("acknowledged", now, by=actor.upn, note=note))
        incident.save(update_fields=["acknowledged_at", "acknowledged_by", "timeline"])
        _record(actor, Action.INCIDENT_ACKNOWLEDGE, incident, note=note)
    return incident


def snooze(*, incident_id: int, actor: Actor, until: datetime, note: str = "") -> Incident:
    """Quiet until `until` (out of the overview's count); it still resolves by itself. Audited."""
    now = timezone.now()
    with transaction.atomic():
        incident = _locked_open(incident_id)
        incident.snoozed_until = until
        incident.snoozed_by = actor.upn
        incident.timeline.append(
            _entry("snoozed", now, by=actor.upn, until=until.isoformat(), note=note)
        )
        incident.save(update_fields=["snoozed_until", "snoozed_by", "timeline"])
        _record(actor, Action.INCIDENT_SNOOZE, incident, until=until.isoformat(), note=note)
    return incident

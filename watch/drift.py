"""Drift: what changed in a tenant since an Admin recorded its baseline, and who changed it.

    record_baseline(actor, tenant_id, graph)   # the tenant as it is now becomes the baseline
    check(tenant_id, graph)                    # compare; open, update or close drift findings
    accept(actor, finding)                     # the new value becomes the baseline

The state compared: each Exchange connector's settings (not its status or last sync: those are
the sweep's health), each App Proxy connector group's name, region and members. Each changed
field is one `DriftFinding` (the drift incident), saying whether the change came through this
dashboard (a successful write in its own audit log for that object since the baseline) or from
elsewhere. Recording and accepting are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import Action, AuditEntry, Outcome, Phase, TargetType
from audit.services import Actor, Target, audit_local_change
from connectors.selectors import app_proxy_tenant_get, exchange_connector_list
from graph.client import GraphClient
from watch.models import DriftBaseline, DriftFinding, DriftSource, DriftStatus
from watch.observations import ObjectKind

# Exchange connector fields that are state the connector reports, not settings an admin sets.
NOT_SETTINGS = frozenset({"status", "lastSyncDateTime", "version"})
PRESENCE = "(exists)"  # the field a finding has when a whole object appeared or went away
# The dashboard's own writes that change each kind of object (matched against the audit log).
ACTIONS = {
    ObjectKind.EXCHANGE_CONNECTOR: [
        Action.EXCHANGE_CONNECTOR_CREATE,
        Action.EXCHANGE_CONNECTOR_UPDATE,
        Action.EXCHANGE_CONNECTOR_DELETE,
    ],
    ObjectKind.CONNECTOR_GROUP: [
        Action.CONNECTOR_GROUP_CREATE,
        Action.CONNECTOR_GROUP_UPDATE,
        Action.CONNECTOR_GROUP_DELETE,
    ],
}


def tenant_state(graph: GraphClient) -> dict[str, dict[str, Any]]:
    """The tenant's compared state, keyed "<kind>:<id>": one paged list of Exchange connectors,
    the App Proxy groups with their members (2 GETs and a $batch)."""
    state: dict[str, dict[str, Any]] = {}
    for row in exchange_connector_list(graph=graph, now=timezone.now()):
        connector = row.connector
        fields = {k: v for k, v in connector.graph_values().items() if k not in NOT_SETTINGS}
        state[f"{ObjectKind.EXCHANGE_CONNECTOR}:{connector.id}"] = {
            "kind": ObjectKind.EXCHANGE_CONNECTOR,
            "id": connector.id,
            "name": connector.display_name,
            "fields": fields,
        }
    for group_row in app_proxy_tenant_get(graph=graph).groups:
        group = group_row.group
        state[f"{ObjectKind.CONNECTOR_GROUP}:{group.id}"] = {
            "kind": ObjectKind.CONNECTOR_GROUP,
            "id": group.id,
            "name": group.display_name,
            "fields": {
                "name": group.name,
                "region": group.region,
                "members": {c.id: c.display_name for c in group_row.connectors},
            },
        }
    return state


@dataclass(frozen=True)
class Change:
    key: str
    kind: str
    object_id: str
    name: str
    field: str
    before: Any
    after: Any


def compare(baseline: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]]) -> list[Change]:
    """Every field that differs, and every object that appeared or went away."""
    changes: list[Change] = []
    for key in sorted(baseline.keys() | now.keys()):
        was, is_ = baseline.get(key), now.get(key)
        some = is_ or was or {}
        if was is None or is_ is None:
            # The whole object, so accepting it puts (or drops) all of it in the baseline.
            changes.append(Change(key, some["kind"], some["id"], some["name"], PRESENCE, was, is_))
            continue
        for field in sorted(was["fields"].keys() | is_["fields"].keys()):
            before, after = was["fields"].get(field), is_["fields"].get(field)
            if before != after:
                changes.append(
                    Change(key, is_["kind"], is_["id"], is_["name"], field, before, after)
                )
    return changes


def _dashboard_write(tenant_id: str, change: Change, since: datetime) -> AuditEntry | None:
    """The dashboard's own successful write that explains the change, if there is one: to the
    object itself, or — a group's members — a move of one of the connectors that came or went."""
    entries = AuditEntry.objects.filter(
        tenant_id=tenant_id, phase=Phase.OUTCOME, outcome=Outcome.SUCCEEDED, created_at__gte=since
    )
    if change.field == "members":
        moved = set(change.before or {}) ^ set(change.after or {})
        found = entries.filter(action=Action.APP_PROXY_CONNECTOR_MOVE, target_id__in=moved)
    else:
        found = entries.filter(action__in=ACTIONS.get(change.kind, []), target_id=change.object_id)
        if change.field != PRESENCE:
            matching = [e for e in found.order_by("id") if change.field in (e.after or {})]
            return matching[-1] if matching else None
    return found.order_by("-id").first()


def _source(tenant_id: str, change: Change, since: datetime) -> tuple[str, str]:
    entry = _dashboard_write(tenant_id, change, since)
    if entry is None:
        return (
            DriftSource.OUTSIDE,
            "No change to it in the dashboard's audit log since the baseline.",
        )
    via = "the watch" if entry.channel == "watch" else entry.channel
    return (
        DriftSource.DASHBOARD,
        f"{entry.actor_name or entry.actor_upn} ({entry.actor_upn}) at "
        f"{entry.created_at:%Y-%m-%d %H:%M:%S} UTC, through the {via} (audit entry {entry.pk}).",
    )


def _record(actor: Actor, action: str, tenant_id: str, **values: object) -> None:
    target = Target(type=TargetType.DRIFT_BASELINE, id=tenant_id, name=tenant_id)
    audit_local_change(actor=actor, action=action, target=target, after=values)


@transaction.atomic
def record_baseline(*, actor: Actor, tenant_id: str, graph: GraphClient) -> DriftBaseline:
    """The tenant as Graph has it now becomes its baseline; open findings close (accepted)."""
    state = tenant_state(graph)
    now = timezone.now()
    baseline, _ = DriftBaseline.objects.update_or_create(
        tenant_id=tenant_id,
        defaults={"recorded_at": now, "recorded_by": actor.upn, "state": state},
    )
    DriftFinding.objects.filter(tenant_id=tenant_id, status=DriftStatus.OPEN).update(
        status=DriftStatus.ACCEPTED, closed_at=now, closed_by=actor.upn
    )
    _record(actor, Action.DRIFT_BASELINE_RECORD, tenant_id, objects=len(state))
    return baseline


@transaction.atomic
def check(*, tenant_id: str, graph: GraphClient) -> list[DriftFinding]:
    """Compare the tenant with its baseline: a finding opens per new changed field (once),
    an open one follows the latest value, and one whose field is back to the baseline closes.
    Returns the open findings. Nothing to compare without a baseline."""
    baseline = DriftBaseline.objects.select_for_update().filter(tenant_id=tenant_id).first()
    if baseline is None:
        return []
    now = timezone.now()
    changes = compare(baseline.state, tenant_state(graph))
    open_rows = {
        (row.object_key, row.field): row
        for row in DriftFinding.objects.filter(tenant_id=tenant_id, status=DriftStatus.OPEN)
    }
    for change in changes:
        row = open_rows.pop((change.key, change.field), None)
        if row is None:
            source, detail = _source(tenant_id, change, baseline.recorded_at)
            DriftFinding.objects.create(
                tenant_id=tenant_id,
                object_key=change.key,
                object_kind=change.kind,
                object_id=change.object_id,
                object_name=change.name,
                field=change.field,
                before=change.before,
                after=change.after,
                source=source,
                source_detail=detail,
                opened_at=now,
                last_seen_at=now,
            )
        else:
            row.after, row.last_seen_at, row.object_name = change.after, now, change.name
            row.save(update_fields=["after", "last_seen_at", "object_name"])
    for row in open_rows.values():
        row.status, row.closed_at = DriftStatus.REVERTED, now
        row.save(update_fields=["status", "closed_at"])
    return list(DriftFinding.objects.filter(tenant_id=tenant_id, status=DriftStatus.OPEN))


@transaction.atomic
def accept(*, actor: Actor, finding: DriftFinding) -> DriftFinding:
    """The finding's new value becomes the baseline's; audited."""
    baseline = DriftBaseline.objects.select_for_update().get(tenant_id=finding.tenant_id)
    state = dict(baseline.state)
    if finding.field == PRESENCE:
        if finding.after:
            state[finding.object_key] = finding.after
        else:
            state.pop(finding.object_key, None)
    elif finding.object_key in state:
        state[finding.object_key]["fields"][finding.field] = finding.after
    baseline.state = state
    baseline.save(update_fields=["state"])
    finding.status, finding.closed_at, finding.closed_by = (
        DriftStatus.ACCEPTED,
        timezone.now(),
        actor.upn,
    )
    finding.save(update_fields=["status", "closed_at", "closed_by"])
    _record(
        actor,
        Action.DRIFT_ACCEPT,
        finding.tenant_id,
        object=finding.object_name,
        field=finding.field,
        before=finding.before,
        after=finding.after,
    )
    return finding

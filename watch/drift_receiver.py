"""Each sweep compared with the tenant's drift baseline, and the drift sent on as observations.

    sweep_observed(result) --> compare_sweep(result)
        1. the kinds this sweep read in full replace those in the tenant's DriftSnapshot;
        2. with a baseline: every object compared; a drift whose changes are new is attributed
           (watch.drift_attribution); what changed since the last look is kept as a SeenChange
           (the objects' history); the changes made through this dashboard go into the baseline
           (drift_baselines.follow_dashboard, audited: the dashboard's own write is their
           record, so they are no drift), and those from outside are kept as a DriftFinding;
        3. publish(): a SweepResult of DRIFT observations, one per object of the baseline (and per
           object that appeared), "drifted" or "matches", read_kinds={"drift"}, keyed
           f"{sweep_key}:drift" --> sweep_observed again: the alerts' drift rule.

Idempotent per sweep key: a redone sweep sees the same snapshot, finds the same fingerprints
(attribution kept), adds no second SeenChange (unique per sweep key) and sends the same key.
Its own DRIFT results come back to it through the signal: they hold no compared kind, so
`snapshot_of` reads nothing and it stops there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from graph.client import GraphClient
from watch.budget import SweepBudget
from watch.credentials import graph_for_watch, watch_actor
from watch.drift import (
    Difference,
    changes_since,
    compare,
    fingerprint,
    group_names,
    labelled,
    merged,
    snapshot_of,
)
from watch.drift_attribution import Attribution, attribute
from watch.drift_baselines import baseline_of, baseline_snapshot, follow_dashboard
from watch.models import DriftFinding, DriftSnapshot, DriftSource, SeenChange
from watch.observations import ObjectKind, Observation, SweepResult, sweep_observed

DRIFTED, MATCHES = "drifted", "matches"


def on_sweep_observed(sender: Any, result: SweepResult, **kwargs: Any) -> None:
    compare_sweep(result)


def drift_key(sweep_key: str) -> str:
    return f"{sweep_key}:drift"


def _store_snapshot(result: SweepResult) -> dict[str, Any] | None:
    read, seen = snapshot_of(result)
    if not read:
        return None
    with transaction.atomic():
        row, created = DriftSnapshot.objects.select_for_update().get_or_create(
            tenant_id=result.tenant_id,
            defaults={
                "observed_at": result.observed_at,
                "sweep_key": result.sweep_key,
                "seen": seen,
            },
        )
        if not created and row.observed_at <= result.observed_at:
            row.seen = merged(row.seen, seen)
            row.observed_at = result.observed_at
            row.sweep_key = result.sweep_key
            row.save(update_fields=["seen", "observed_at", "sweep_key"])
    return row.seen


def compare_sweep(
    result: SweepResult, *, graph: Callable[[], GraphClient] | None = None
) -> SweepResult | None:
    """Compare one sweep with the baseline and send the drift on; the DRIFT result sent (None
    when there was nothing to compare). `graph`: Intune's audit events are read with it
    (default: the watch's own Graph in that tenant)."""
    snapshot = _store_snapshot(result)
    baseline = baseline_of(result.tenant_id)
    if snapshot is None or baseline is None:
        return None
    recorded = baseline_snapshot(baseline)
    items = {(item.kind, item.object_id): item for item in baseline.items.all()}
    findings = {
        (finding.kind, finding.object_id): finding
        for finding in DriftFinding.objects.filter(tenant_id=result.tenant_id)
    }
    names = group_names(recorded, snapshot)
    # Intune's events are read as the watch, counted against the tenant's Graph budget.
    graph = graph or (
        lambda: graph_for_watch(
            via="drift comparison", tenant=result.tenant_id, meter=SweepBudget(result.tenant_id)
        )
    )
    compared: set[tuple[str, str]] = set()
    for difference in compare(recorded, snapshot):
        key = (difference.kind, difference.object_id)
        compared.add(key)
        item = items.get(key)
        since = item.recorded_at if item is not None else baseline.recorded_at
        _track(
            difference,
            findings.get(key),
            result=result,
            observed=snapshot.get(difference.kind, {}).get(difference.object_id, {}),
            names=names,
            attribute_since=lambda d, since=since: attribute(
                tenant_id=result.tenant_id,
                difference=d,
                since=since,
                until=timezone.now(),
                graph=graph,
            ),
        )
    # Findings of kinds this tenant's snapshot no longer compares (a baseline re-recorded).
    for key, finding in findings.items():
        if key not in compared and finding.kind in snapshot:
            finding.delete()
    drift = drift_result(result.tenant_id, drift_key(result.sweep_key), result.observed_at)
    if drift is not None:
        sweep_observed.send(sender=DriftFinding, result=drift)
    return drift


def _track(
    difference: Difference,
    finding: DriftFinding | None,
    *,
    result: SweepResult,
    observed: dict[str, Any],
    names: dict[str, str],
    attribute_since: Callable[[Difference], Attribution],
) -> None:
    """Keep one object's finding in step with what this sweep saw; record what moved."""
    changes = labelled(difference.changes, names)
    if not difference.drifted:
        if finding is not None:
            reverted = changes_since(finding.changes, [])
            _seen(difference, reverted, result, names, attribute_since)
            finding.delete()
        return
    print_ = fingerprint(difference.changes)
    if finding is not None and finding.fingerprint == print_:
        if finding.last_seen_at < result.observed_at:
            finding.last_seen_at = result.observed_at
            finding.save(update_fields=["last_seen_at"])
        return
    attribution = attribute_since(difference)
    by_field = {c["field"]: c for c in attribution.changes}
    moved = [
        {**c, **_source_of(by_field.get(c["field"]), c)}
        for c in changes_since(finding.changes if finding is not None else [], changes)
    ]
    ours = all(c.get("source") == DriftSource.DASHBOARD for c in moved)
    known = Attribution(
        moved,
        DriftSource.DASHBOARD if ours else DriftSource.OUTSIDE,
        None if ours else attribution.intune_event,
        "" if ours else attribution.intune_note,
    )
    _seen(difference, moved, result, names, attribute_since, known=known)
    # The dashboard's own changes are no drift: the baseline takes them (audited).
    dashboard = [c for c in attribution.changes if c["source"] == DriftSource.DASHBOARD]
    if dashboard:
        follow_dashboard(
            actor=watch_actor(via="drift baseline"),
            tenant_id=result.tenant_id,
            kind=difference.kind,
            object_id=difference.object_id,
            name=difference.name,
            changes=labelled(dashboard, names),
            observed=observed.get("values", {}),
        )
    outside = [c for c in attribution.changes if c["source"] != DriftSource.DASHBOARD]
    _keep_finding(difference, finding, outside, attribution, result, observed, names)


def _keep_finding(
    difference: Difference,
    finding: DriftFinding | None,
    outside: list[dict[str, Any]],
    attribution: Attribution,
    result: SweepResult,
    observed: dict[str, Any],
    names: dict[str, str],
) -> None:
    """The object's finding: its changes from outside the dashboard (none left: no finding)."""
    if not outside:
        if finding is not None:
            finding.delete()
        return
    print_ = fingerprint(outside)
    if finding is not None and finding.fingerprint == print_:
        finding.last_seen_at = max(finding.last_seen_at, result.observed_at)
        finding.save(update_fields=["last_seen_at"])
        return
    DriftFinding.objects.update_or_create(
        tenant_id=result.tenant_id,
        kind=difference.kind,
        object_id=difference.object_id,
        defaults={
            "name": difference.name[:255],
            "changes": labelled(outside, names),
            "observed": observed.get("values", {}),
            "source": DriftSource.OUTSIDE,
            "intune_event": attribution.intune_event,
            "intune_note": attribution.intune_note,
            "fingerprint": print_,
            "first_seen_at": result.observed_at,
            "last_seen_at": result.observed_at,
            "sweep_key": result.sweep_key,
        },
    )


def _source_of(attributed: dict[str, Any] | None, change: dict[str, Any]) -> dict[str, Any]:
    if attributed is None or attributed["after"] != change["after"]:
        return {}
    return {k: attributed[k] for k in ("source", "audit_entry", "made_by") if k in attributed}


def _seen(
    difference: Difference,
    moved: list[dict[str, str]],
    result: SweepResult,
    names: dict[str, str],
    attribute_since: Callable[[Difference], Attribution],
    known: Attribution | None = None,
) -> None:
    """One SeenChange per object per sweep (a redone sweep adds none)."""
    if not moved:
        return
    if known is None or any("source" not in c for c in known.changes):
        known = attribute_since(
            Difference(difference.kind, difference.object_id, difference.name, moved)
        )
    SeenChange.objects.get_or_create(
        tenant_id=result.tenant_id,
        kind=difference.kind,
        object_id=difference.object_id,
        sweep_key=result.sweep_key,
        defaults={
            "name": difference.name[:255],
            "changes": labelled(known.changes, names),
            "source": known.source,
            "intune_event": known.intune_event,
            "intune_note": known.intune_note,
            "seen_at": result.observed_at,
        },
    )


def _observation(
    tenant_id: str, kind: str, object_id: str, name: str, finding: DriftFinding | None
) -> Observation:
    return Observation(
        tenant_id=tenant_id,
        kind=ObjectKind.DRIFT,
        object_id=object_id,
        name=name,
        state=DRIFTED if finding else MATCHES,
        details={
            "kind": kind,
            "changes": finding.changes if finding else [],
            "source": finding.source if finding else "",
            "intune_event": finding.intune_event if finding else None,
            "intune_note": finding.intune_note if finding else "",
        },
    )


def drift_result(tenant_id: str, sweep_key: str, observed_at: datetime) -> SweepResult | None:
    """The tenant's drift as observations: every baseline object (and every object that
    appeared), drifted or matching, so the alerts resolve what matches again."""
    baseline = baseline_of(tenant_id)
    if baseline is None:
        return None
    findings = list(DriftFinding.objects.filter(tenant_id=tenant_id))
    drifted = {(f.kind, f.object_id) for f in findings}
    observations = [_observation(tenant_id, f.kind, f.object_id, f.name, f) for f in findings]
    observations += [
        _observation(tenant_id, item.kind, item.object_id, item.name, None)
        for item in baseline.items.all()
        if (item.kind, item.object_id) not in drifted
    ]
    return SweepResult(
        tenant_id=tenant_id,
        sweep_key=sweep_key,
        observed_at=observed_at,
        observations=observations,
        complete=True,
        read_kinds=frozenset({ObjectKind.DRIFT.value}),
    )


def publish(tenant_id: str, *, reason: str) -> SweepResult | None:
    """Send the tenant's drift now (after an Accept), under a key of its own."""
    now = timezone.now()
    drift = drift_result(tenant_id, f"{reason}:{now.isoformat()}", now)
    if drift is not None:
        sweep_observed.send(sender=DriftFinding, result=drift)
    return drift

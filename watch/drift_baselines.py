"""Recording a tenant's drift baseline and accepting a drift: an Admin's local changes, audited.

    snapshot = graph_snapshot(exchange_graph=…, app_proxy_graph=…)   # a fresh Graph read
    snapshot = latest_snapshot(tenant_id)                              # what the sweeps saw
    record(actor=…, tenant_id=…, snapshot=snapshot, source=BaselineSource.GRAPH)
    accept(actor=…, tenant_id=…, kind=…, object_id=…)   # the baseline takes what was seen
    follow_dashboard(actor=…, tenant_id=…, …)   # the baseline takes the dashboard's own change

Accepting sends the tenant's drift observations at once (watch.drift_receiver.publish), so the
drift incident resolves without waiting for the next sweep.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import Action, TargetType
from audit.services import Actor, Target, audit_local_change
from connectors.selectors import app_proxy_tenant_get, exchange_connector_list
from graph.client import GraphClient
from kernel.errors import Refusal
from watch.drift import ABSENT, PRESENCE, Snapshot, snapshot_from_graph
from watch.models import BaselineItem, DriftBaseline, DriftFinding, DriftSnapshot
from watch.observations import ObjectKind

TARGET_TYPES = {
    ObjectKind.EXCHANGE_CONNECTOR: TargetType.EXCHANGE_CONNECTOR,
    ObjectKind.APP_PROXY_CONNECTOR: TargetType.APP_PROXY_CONNECTOR,
    ObjectKind.CONNECTOR_GROUP: TargetType.CONNECTOR_GROUP,
}


class DriftRefusal(Refusal):
    """Nothing to record or accept (the page shows why)."""

    status = 409


def graph_snapshot(*, exchange_graph: GraphClient, app_proxy_graph: GraphClient) -> Snapshot:
    """Exchange connectors (one paged list), App Proxy groups, connectors and memberships (two
    lists and one `$batch` per 20 groups), as the drift compares them."""
    rows = exchange_connector_list(graph=exchange_graph, now=timezone.now())
    app_proxy = app_proxy_tenant_get(graph=app_proxy_graph)
    return snapshot_from_graph(
        exchange=[row.connector for row in rows],
        groups=[(row.group, row.connectors) for row in app_proxy.groups],
        connectors=[(row.connector, row.group) for row in app_proxy.connectors],
    )


def latest_snapshot(tenant_id: str) -> DriftSnapshot | None:
    return DriftSnapshot.objects.filter(tenant_id=tenant_id).first()


def baseline_of(tenant_id: str) -> DriftBaseline | None:
    return DriftBaseline.objects.filter(tenant_id=tenant_id).first()


def baseline_snapshot(baseline: DriftBaseline) -> Snapshot:
    """The baseline in a snapshot's shape (every recorded kind, even one with no objects)."""
    snapshot: Snapshot = {kind: {} for kind in baseline.kinds}
    for item in baseline.items.all():
        snapshot.setdefault(item.kind, {})[item.object_id] = {
            "name": item.name,
            "values": item.values,
        }
    return snapshot


def record(
    *, actor: Actor, tenant_id: str, tenant_name: str, snapshot: Snapshot, source: str
) -> DriftBaseline:
    """Make `snapshot` the tenant's baseline (replacing any earlier one); audited. The drift
    found against the earlier baseline is dropped: the next sweep compares afresh."""
    if not snapshot:
        raise DriftRefusal("Nothing was read to record: no sweep has seen this tenant yet.")
    now = timezone.now()
    with transaction.atomic():
        baseline, _ = DriftBaseline.objects.update_or_create(
            tenant_id=tenant_id,
            defaults={
                "recorded_at": now,
                "recorded_by": actor.upn,
                "source": source,
                "kinds": sorted(snapshot),
            },
        )
        baseline.items.all().delete()
        BaselineItem.objects.bulk_create(
            BaselineItem(
                baseline=baseline,
                kind=kind,
                object_id=object_id,
                name=item["name"][:255],
                values=item["values"],
                recorded_at=now,
                recorded_by=actor.upn,
            )
            for kind, objects in snapshot.items()
            for object_id, item in objects.items()
        )
        DriftFinding.objects.filter(tenant_id=tenant_id).delete()
    audit_local_change(
        actor=actor,
        action=Action.DRIFT_BASELINE_RECORD,
        target=Target(type=TargetType.DRIFT_BASELINE, id=tenant_id, name=tenant_name),
        after={
            "source": source,
            "objects": {kind: len(objects) for kind, objects in sorted(snapshot.items())},
        },
    )
    return baseline


def accept(*, actor: Actor, tenant_id: str, kind: str, object_id: str) -> DriftFinding:
    """The baseline of one object becomes what the watch saw (an object that went leaves the
    baseline); audited on the object, so its history shows who accepted what."""
    with transaction.atomic():
        finding = (
            DriftFinding.objects.select_for_update()
            .filter(tenant_id=tenant_id, kind=kind, object_id=object_id)
            .first()
        )
        baseline = baseline_of(tenant_id)
        if finding is None or baseline is None:
            raise DriftRefusal(
                "There is no drift of this object to accept: it matches the baseline now, or "
                "someone accepted it already."
            )
        item = baseline.items.filter(kind=kind, object_id=object_id).first()
        before = item.values if item is not None else {}
        gone = any(c["field"] == PRESENCE and c["after"] == ABSENT for c in finding.changes)
        if gone:
            baseline.items.filter(kind=kind, object_id=object_id).delete()
        else:
            BaselineItem.objects.update_or_create(
                baseline=baseline,
                kind=kind,
                object_id=object_id,
                defaults={
                    "name": finding.name,
                    "values": finding.observed,
                    "recorded_at": timezone.now(),
                    "recorded_by": actor.upn,
                },
            )
        finding.delete()
    audit_local_change(
        actor=actor,
        action=Action.DRIFT_ACCEPT,
        target=Target(type=TARGET_TYPES.get(kind, kind), id=object_id, name=finding.name),
        before={"baseline": before},
        after={"baseline": {} if gone else finding.observed, "changes": finding.changes},
    )
    return finding


def follow_dashboard(
    *,
    actor: Actor,
    tenant_id: str,
    kind: str,
    object_id: str,
    name: str,
    changes: list[dict[str, Any]],
    observed: Mapping[str, Any],
) -> None:
    """The baseline takes changes made through this dashboard (each with its "audit_entry"):
    the dashboard's own audited write is their record, so they are no drift. Only these fields
    move (a change from elsewhere to another field stays drift); audited on the object, naming
    the dashboard's entries and who made them, so the baseline's history stays explainable."""
    baseline = baseline_of(tenant_id)
    if baseline is None or not changes:
        return
    entries = sorted({c["audit_entry"] for c in changes if c.get("audit_entry")})
    made_by = sorted({str(c["made_by"]) for c in changes if c.get("made_by")})
    with transaction.atomic():
        item = baseline.items.select_for_update().filter(kind=kind, object_id=object_id).first()
        before = dict(item.values) if item is not None else {}
        presence = next((c for c in changes if c["field"] == PRESENCE), None)
        if presence is not None and presence["after"] == ABSENT:
            after: dict[str, Any] = {}
            baseline.items.filter(kind=kind, object_id=object_id).delete()
        else:
            after = (
                dict(observed)
                if presence is not None or item is None
                else {**before, **{c["field"]: c["after"] for c in changes}}
            )
            BaselineItem.objects.update_or_create(
                baseline=baseline,
                kind=kind,
                object_id=object_id,
                defaults={
                    "name": name[:255],
                    "values": after,
                    "recorded_at": timezone.now(),
                    "recorded_by": ", ".join(made_by)[:255] or actor.upn,
                },
            )
    audit_local_change(
        actor=actor,
        action=Action.DRIFT_FOLLOW,
        target=Target(type=TARGET_TYPES.get(kind, kind), id=object_id, name=name),
        before={"baseline": before},
        after={
            "baseline": after,
            "changes": changes,
            "audit_entries": entries,
            "changed_by": made_by,
        },
    )

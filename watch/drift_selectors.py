"""What the drift page shows: the tenant's baseline, its current drift, the changes seen."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from audit.models import AuditEntry
from audit.selectors import AuditFilters, audit_action_list
from watch.drift_baselines import TARGET_TYPES
from watch.models import DriftBaseline, DriftFinding, DriftSnapshot, DriftSource, SeenChange

RECENT_CHANGES = 50


@dataclass(frozen=True)
class DriftPage:
    baseline: DriftBaseline | None
    counts: dict[str, int]  # recorded objects per kind
    findings: list[DriftFinding]
    snapshot: DriftSnapshot | None
    changes: list[SeenChange]


def drift_page(tenant_id: str) -> DriftPage:
    baseline = DriftBaseline.objects.filter(tenant_id=tenant_id).first()
    counts = (
        dict(Counter(baseline.items.values_list("kind", flat=True))) if baseline is not None else {}
    )
    return DriftPage(
        baseline=baseline,
        counts={kind: counts.get(kind, 0) for kind in (baseline.kinds if baseline else [])},
        findings=list(DriftFinding.objects.filter(tenant_id=tenant_id)),
        snapshot=DriftSnapshot.objects.filter(tenant_id=tenant_id).first(),
        changes=list(SeenChange.objects.filter(tenant_id=tenant_id)[:RECENT_CHANGES]),
    )


@dataclass(frozen=True)
class HistoryEntry:
    """One change to an object: the dashboard's own (its audit entry), or one made elsewhere
    that the watch saw (a SeenChange)."""

    at: datetime
    entry: AuditEntry | None = None
    seen: SeenChange | None = None


def object_changes(
    *, tenant_id: str, kind: str, object_id: str, limit: int = RECENT_CHANGES
) -> list[HistoryEntry]:
    """An object's changes, newest first: the dashboard's audit entries for it beside the
    changes made outside the dashboard that the watch saw (its own are in the audit log)."""
    if kind not in TARGET_TYPES:
        return []  # the tenant, the credentials: no settings of their own here
    actions = audit_action_list(
        filters=AuditFilters(target_type=TARGET_TYPES.get(kind, ""), target_id=object_id)
    )[:limit]
    seen = SeenChange.objects.filter(
        tenant_id=tenant_id, kind=kind, object_id=object_id, source=DriftSource.OUTSIDE
    )[:limit]
    entries = [HistoryEntry(at=entry.created_at, entry=entry) for entry in actions]
    entries += [HistoryEntry(at=change.seen_at, seen=change) for change in seen]
    entries.sort(key=lambda item: item.at, reverse=True)
    return entries[:limit]

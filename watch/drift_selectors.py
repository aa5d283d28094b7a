"""What the drift page shows: the tenant's baseline, its current drift, the changes seen."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from watch.models import DriftBaseline, DriftFinding, DriftSnapshot, SeenChange

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


def changes_seen(
    *, tenant_id: str, object_id: str, limit: int = RECENT_CHANGES
) -> list[SeenChange]:
    """The changes the watch saw on one object, newest first (its history)."""
    return list(SeenChange.objects.filter(tenant_id=tenant_id, object_id=object_id)[:limit])

"""What the watch's own parts do when a sweep reports (watch.observations.sweep_observed)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from watch.models import DriftBaseline
from watch.observations import ObjectKind, SweepResult, sweep_observed

# A scheduled sync's report reads no tenant state: no drift to look for.
NOT_A_SWEEP = frozenset({ObjectKind.SCHEDULED_SYNC})


@receiver(sweep_observed, dispatch_uid="watch.drift_after_sweep")
def drift_after_sweep(sender: Any, result: SweepResult, **_: Any) -> None:
    """After each complete sweep of a tenant with a baseline, check it for drift (a task of its
    own: its reads are not the sweep's). Idempotent: a sweep redone checks once more."""
    if not result.complete or (result.read_kinds and result.read_kinds <= NOT_A_SWEEP):
        return
    if not DriftBaseline.objects.filter(tenant_id=result.tenant_id).exists():
        return
    from watch.tasks import drift_check

    drift_check.delay(tenant_id=result.tenant_id)

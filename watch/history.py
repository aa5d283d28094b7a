"""Each watched object's history, kept compactly: its current state (`ObjectState`, a row per
object) and a `StateChange` row only when the state changes, so a connector that stays healthy
for a month costs one row, not 8,640.

`record` receives `sweep_observed`. It is idempotent per sweep: an object whose row already
carries the sweep's key (a sweep redone after its worker died) is left alone, and so is one
seen by a later sweep already (a deferred sweep finishing late). An object of a kind the sweep
read in full that it no longer saw is "gone" (deleted in Graph); one of a kind it could not read
is absent, not gone, and left alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from watch.models import ObjectState, StateChange, Sweep
from watch.observations import ObjectKind, Observation, SweepResult

GONE = "gone"
# Kinds a sweep can see disappear (the tenant and the credentials do not).
LISTED_KINDS = (
    ObjectKind.EXCHANGE_CONNECTOR,
    ObjectKind.APP_PROXY_CONNECTOR,
    ObjectKind.CONNECTOR_GROUP,
)


def record(sender: Any = None, result: SweepResult | None = None, **kwargs: Any) -> None:
    """Store what a sweep saw (the `sweep_observed` receiver)."""
    if result is None:
        return
    with transaction.atomic():
        _record(result)


def _record(result: SweepResult) -> None:
    tenant_ids = {result.tenant_id} | {o.tenant_id for o in result.observations}
    rows = {
        (row.tenant_id, row.kind, row.object_id): row
        for row in ObjectState.objects.select_for_update().filter(tenant_id__in=tenant_ids)
    }
    at = result.observed_at
    changes: list[StateChange] = []
    created: list[ObjectState] = []
    updated: list[ObjectState] = []
    seen = set()
    for observation in result.observations:
        key = (observation.tenant_id, observation.kind, observation.object_id)
        seen.add(key)
        row = rows.get(key)
        if row is None:
            created.append(_new(observation, result))
            changes.append(_change(observation, "", observation.state, result))
            continue
        if row.last_sweep_key == result.sweep_key or row.last_seen_at > at:
            continue  # this sweep's already, or a later sweep's
        if row.state != observation.state:
            changes.append(_change(observation, row.state, observation.state, result))
            row.state, row.since = observation.state, at
        row.name = observation.name or row.name
        row.details = observation.details
        row.last_seen_at, row.last_sweep_key = at, result.sweep_key
        updated.append(row)
    for key, row in rows.items():
        if (
            key not in seen
            and row.tenant_id == result.tenant_id
            and row.kind in LISTED_KINDS
            and row.kind in result.read_kinds
            and row.state != GONE
            and row.last_seen_at <= at
        ):
            changes.append(_change(row, row.state, GONE, result))
            row.state, row.since, row.last_sweep_key = GONE, at, result.sweep_key
            updated.append(row)
    ObjectState.objects.bulk_create(created)
    ObjectState.objects.bulk_update(
        updated, ["state", "since", "name", "details", "last_seen_at", "last_sweep_key"]
    )
    StateChange.objects.bulk_create(changes)


def _new(observation: Observation, result: SweepResult) -> ObjectState:
    at = result.observed_at
    return ObjectState(
        tenant_id=observation.tenant_id,
        kind=observation.kind,
        object_id=observation.object_id,
        name=observation.name,
        state=observation.state,
        since=at,
        first_seen_at=at,
        last_seen_at=at,
        last_sweep_key=result.sweep_key,
        details=observation.details,
    )


def _change(
    observation: Observation, previous: str, state: str, result: SweepResult
) -> StateChange:
    return StateChange(
        tenant_id=observation.tenant_id,
        kind=observation.kind,
        object_id=observation.object_id,
        previous=previous,
        state=state,
        at=result.observed_at,
        sweep_key=result.sweep_key,
    )


def prune(*, now: datetime | None = None) -> dict[str, int]:
    """Forget history older than WATCH_HISTORY_RETENTION_DAYS (and objects gone that long),
    and sweeps older than WATCH_SWEEPS_KEPT_HOURS. An object's state at the start of a window
    is its first change's `previous` there, so older changes are not needed to draw it."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WATCH_HISTORY_RETENTION_DAYS)
    changes, _ = StateChange.objects.filter(at__lt=cutoff).delete()
    objects, _ = ObjectState.objects.filter(state=GONE, since__lt=cutoff).delete()
    sweeps, _ = Sweep.objects.filter(
        due_at__lt=now - timedelta(hours=settings.WATCH_SWEEPS_KEPT_HOURS)
    ).delete()
    return {"changes": changes, "objects": objects, "sweeps": sweeps}

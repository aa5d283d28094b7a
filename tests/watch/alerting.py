"""Sweep results as the sweep sends them, and a recorder of the notices the alerts send."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from watch.observations import Notice, ObjectKind, Observation, SweepResult, incident_event

TENANT = "11111111-2222-3333-4444-555555555555"
START = datetime(2026, 12, 3, 3, 0, tzinfo=datetime.now().astimezone().tzinfo).astimezone()
ALL_KINDS = frozenset(ObjectKind.values) - {ObjectKind.SCHEDULED_SYNC}


def group(state: str, object_id: str = "g1", name: str = "Europe") -> Observation:
    active = {"ok": 2, "at_risk": 1, "down": 0}[state]
    return Observation(
        TENANT, ObjectKind.CONNECTOR_GROUP, object_id, name, state, {"active": active}
    )


def exchange(
    status: str = "connected", last_sync: str | None = "2026-12-03T02:00:00Z"
) -> Observation:
    state = "unhealthy" if status == "disconnected" else "healthy"
    return Observation(
        TENANT,
        ObjectKind.EXCHANGE_CONNECTOR,
        "x1",
        "EXCH01",
        state,
        {"status": status, "last_sync": last_sync},
    )


def sweep(
    number: int,
    *observations: Observation,
    read_kinds: frozenset[str] = ALL_KINDS,
    complete: bool = True,
    tenant: str = TENANT,
) -> SweepResult:
    """Sweep `number` of a tenant, 5 minutes apart (its key names the slot, as the sweep's)."""
    return SweepResult(
        tenant_id=tenant,
        sweep_key=f"{tenant}:{number}",
        observed_at=START + timedelta(minutes=5 * number),
        observations=list(observations),
        complete=complete,
        read_kinds=read_kinds,
    )


@contextlib.contextmanager
def recording_notices() -> Iterator[list[Notice]]:
    """Every notice incident_event carries meanwhile."""
    sent: list[Notice] = []

    def record(sender: Any, notice: Notice, **kwargs: Any) -> None:
        sent.append(notice)

    incident_event.connect(record, dispatch_uid="test-notices")
    yield sent
    incident_event.disconnect(dispatch_uid="test-notices")

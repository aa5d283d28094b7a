"""What a sweep saw, and what an incident did: the records that join the watch's parts.

    sweep (watch.sweeps)  --sweep_observed(result=SweepResult)-->  alerts, drift
    alerts (incidents)    --incident_event(notice=Notice)------->  notifications

Each part connects its receivers in its app's `ready()`; none imports another's internals.
Receivers run in the sweep's task, after the sweep's rows are stored, and must be idempotent
per `SweepResult.sweep_key`: a sweep redone after a worker died sends the same key again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.dispatch import Signal


class ObjectKind(models.TextChoices):
    EXCHANGE_CONNECTOR = "exchange_connector", "Exchange connector"
    APP_PROXY_CONNECTOR = "app_proxy_connector", "App Proxy connector"
    CONNECTOR_GROUP = "connector_group", "Connector group"
    TENANT = "tenant", "Tenant"
    CREDENTIAL = "credential", "Watch credentials"
    SCHEDULED_SYNC = "scheduled_sync", "Scheduled sync"


@dataclass(frozen=True)
class Observation:
    """One object's state as one sweep saw it.

    `state` by kind:
      exchange_connector: Health values (connectors.health): healthy, warning, unhealthy, never
      app_proxy_connector: active, inactive
      connector_group: ok (2+ active), at_risk (1 active), down (0 active)
      tenant: reachable, unreachable
      credential: active, needs_sign_in
      scheduled_sync: landed, not_landed
    `details`: JSON-safe facts behind the state, e.g. {"status": "disconnected",
    "last_sync": "2026-12-03T10:00:00Z"} or {"active": 1, "members": ["id", ...],
    "region": "europe"}; drift compares them.
    """

    tenant_id: str
    kind: str  # ObjectKind
    object_id: str
    name: str
    state: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepResult:
    """One tenant's sweep. `complete` is False when part of the tenant could not be read
    (then objects of the unread kinds are absent, not gone: receivers must not resolve them)."""

    tenant_id: str
    sweep_key: str  # tenant and the interval slot: the same for a sweep redone elsewhere
    observed_at: datetime
    observations: list[Observation]
    complete: bool = True
    read_kinds: frozenset[str] = frozenset()  # the ObjectKinds this sweep read in full
    error: str = ""


@dataclass(frozen=True)
class Notice:
    """An incident opened or resolved: what a notification channel sends."""

    event: str  # "opened" | "resolved" | "test"
    incident_id: int | None
    tenant_id: str
    tenant_name: str
    rule: str
    severity: str  # "warning" | "critical"
    object_kind: str
    object_id: str
    object_name: str
    summary: str
    opened_at: datetime
    resolved_at: datetime | None = None
    url: str = ""  # absolute link to the incident, when WATCH_PUBLIC_URL is set


# Sent by the sweep task once a tenant's sweep is stored: kwargs `result` (SweepResult).
sweep_observed = Signal()
# Sent by the alerts when an incident opens or resolves: kwargs `notice`. Sent inside the
# transaction that opens or resolves it: receivers store rows in it and do anything outside the
# database on commit (transaction.on_commit), so nothing is lost or repeated if a worker dies.
incident_event = Signal()

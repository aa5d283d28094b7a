"""Sandbox scenarios: make a connector or a group fail at a given time, and recover.

    exchange-stops-syncing  an Exchange connector stops syncing: its lastSyncDateTime stays at
                            its last sync before `at`, and sync requests are accepted (204) but
                            never land (as for the seeded broken connector, a sync that falls
                            due marks it disconnected); with `disconnected` it also reports
                            status `disconnected` at once. On recovery its status comes back
                            and it syncs again: lastSyncDateTime moves to the recovery time.
    app-proxy-inactive      an App Proxy connector reports status `inactive`; recovery puts
                            its status back.
    group-down              every connector in a connector group reports `inactive`; recovery
                            puts each one's status back.

A scenario is a row (`sandbox.models.Scenario`), so `sandbox_serve`, the dashboard and workers
all see it. It is applied lazily, the way a requested sync lands: the first Graph request into
the tenant after `at` starts it and the first after `recover_at` ends it (`apply_due`), so no
clock process is needed and what Graph answers is always what the schedule says. The command
(`sandbox_scenario`) and the control endpoint (`/_sandbox/scenarios`, sandbox.scenario_views)
both go through `create`, `recover` and `clear` here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sandbox import tenants
from sandbox.graph.entities import format_datetime
from sandbox.models import (
    AppProxyConnector,
    ConnectorGroup,
    ExchangeConnector,
    Scenario,
    ScenarioKind,
    ScenarioState,
)
from sandbox.scope import tenant_scope

OPEN_STATES = (ScenarioState.SCHEDULED, ScenarioState.ACTIVE)
_RELATIVE = re.compile(r"^(?P<sign>[+-])(?P<amount>\d+(?:\.\d+)?)(?P<unit>[smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_TARGETS: dict[str, Any] = {
    ScenarioKind.EXCHANGE_STOPS_SYNCING: ExchangeConnector,
    ScenarioKind.APP_PROXY_INACTIVE: AppProxyConnector,
    ScenarioKind.GROUP_DOWN: ConnectorGroup,
}


class ScenarioError(ValueError):
    """A scenario request that cannot be carried out; `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_time(value: str | None, *, field: str, now: datetime | None = None) -> datetime:
    """`now` (or nothing), an ISO 8601 date-time (UTC unless it says), or `+10m`/`-3d`/`+90s`."""
    now = now or timezone.now()
    text = (value or "").strip()
    if not text or text.lower() == "now":
        return now
    relative = _RELATIVE.match(text)
    if relative:
        amount = timedelta(**{_UNITS[relative["unit"]]: float(relative["amount"])})
        return now + amount if relative["sign"] == "+" else now - amount
    try:
        parsed = parse_datetime(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ScenarioError(
            field,
            f"'{value}' is not a time: use 'now', an ISO 8601 date-time such as "
            "2026-12-03T03:00:00Z, or an offset from now such as +10m, -3d, +90s or +2h.",
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Request:
    """What a caller asks for; `create` checks every field against the sandbox's state."""

    scenario: str
    object_id: str
    tenant: str = ""
    at: str | None = None
    recover_at: str | None = None
    disconnected: bool = False


def _tenant_id(segment: str) -> str:
    if not segment.strip():
        return tenants.home().id
    tenant = tenants.lookup(segment)
    if tenant is None:
        raise ScenarioError("tenant", f"No sandbox tenant '{segment}' (give its id or domain).")
    return tenant.id


def _kind(value: str) -> ScenarioKind:
    if value not in ScenarioKind.values:
        raise ScenarioError(
            "scenario",
            f"'{value}' is not a scenario: use one of {', '.join(ScenarioKind.values)}.",
        )
    return ScenarioKind(value)


def create(request: Request, *, now: datetime | None = None) -> Scenario:
    """Schedule a scenario (ScenarioError says which field is wrong); due now, it starts now."""
    now = now or timezone.now()
    kind = _kind(request.scenario)
    tenant_id = _tenant_id(request.tenant)
    at = parse_time(request.at, field="at", now=now)
    recover_at = (
        parse_time(request.recover_at, field="recover_at", now=now) if request.recover_at else None
    )
    if recover_at is not None and recover_at <= at:
        raise ScenarioError("recover_at", "The recovery must come after the outage starts.")
    if request.disconnected and kind != ScenarioKind.EXCHANGE_STOPS_SYNCING:
        raise ScenarioError(
            "disconnected", f"'disconnected' applies to {ScenarioKind.EXCHANGE_STOPS_SYNCING} only."
        )
    with tenant_scope(tenant_id):
        if not _TARGETS[kind].objects.filter(pk=request.object_id).exists():
            noun = _TARGETS[kind]._meta.verbose_name
            raise ScenarioError("object", f"No {noun} '{request.object_id}' in tenant {tenant_id}.")
    with transaction.atomic():
        busy = Scenario.objects.select_for_update().filter(
            tenant_id=tenant_id, object_id=request.object_id, state__in=OPEN_STATES
        )
        if busy.exists():
            raise ScenarioError(
                "object",
                f"'{request.object_id}' already has an open scenario (#{busy.first().pk}): "
                "recover it first.",
            )
        scenario = Scenario.objects.create(
            tenant_id=tenant_id,
            kind=kind,
            object_id=request.object_id,
            disconnected=request.disconnected,
            at=at,
            recover_at=recover_at,
        )
    apply_due(tenant_id=tenant_id, now=now)
    scenario.refresh_from_db()
    return scenario


def apply_due(*, tenant_id: str | None, now: datetime | None = None) -> int:
    """Start and end the scenarios whose time has come (one tenant's, or every tenant's).

    Called by every Graph request for its tenant, before it is served. Each step claims its
    scenario with a conditional update, so two processes never apply the same step twice.
    """
    now = now or timezone.now()
    due = Scenario.objects.filter(
        Q(state=ScenarioState.SCHEDULED, at__lte=now)
        | Q(state=ScenarioState.ACTIVE, recover_at__lte=now)
    )
    if tenant_id is not None:
        due = due.filter(tenant_id=tenant_id)
    applied = 0
    for scenario in list(due):
        if scenario.state == ScenarioState.SCHEDULED:
            applied += _start(scenario)
        if scenario.recover_at is not None and scenario.recover_at <= now:
            applied += _recover(scenario, scenario.recover_at)
    return applied


def _claim(scenario: Scenario, before: str, after: str) -> bool:
    claimed = Scenario.objects.filter(pk=scenario.pk, state=before).update(state=after)
    scenario.state = after
    return claimed == 1


def _start(scenario: Scenario) -> int:
    with transaction.atomic(), tenant_scope(scenario.tenant_id):
        if not _claim(scenario, ScenarioState.SCHEDULED, ScenarioState.ACTIVE):
            return 0
        scenario.prior = _OUTAGES[scenario.kind](scenario)
        scenario.started_at = scenario.at
        scenario.save(update_fields=["prior", "started_at"])
    return 1


def _recover(scenario: Scenario, at: datetime) -> int:
    with transaction.atomic(), tenant_scope(scenario.tenant_id):
        if not _claim(scenario, ScenarioState.ACTIVE, ScenarioState.RECOVERED):
            return 0
        # Another process may have started it: what to put back is what it kept.
        scenario.refresh_from_db(fields=["prior"])
        _RECOVERIES[scenario.kind](scenario, at)
        scenario.recovered_at = at
        scenario.save(update_fields=["recovered_at"])
    return 1


def recover(scenario_id: int, *, at: str | None = None, now: datetime | None = None) -> Scenario:
    """End an open scenario at `at` (default now); a scheduled one that never began ends too."""
    now = now or timezone.now()
    scenario = Scenario.objects.filter(pk=scenario_id).first()
    if scenario is None:
        raise ScenarioError("id", f"No scenario {scenario_id}.")
    if scenario.state == ScenarioState.RECOVERED:
        raise ScenarioError("id", f"Scenario {scenario_id} has already recovered.")
    when = parse_time(at, field="at", now=now)
    if scenario.state == ScenarioState.SCHEDULED and when < scenario.at:
        # Called off before it began: nothing to put back.
        Scenario.objects.filter(pk=scenario.pk, state=ScenarioState.SCHEDULED).update(
            state=ScenarioState.RECOVERED, recover_at=when, recovered_at=when
        )
    else:
        Scenario.objects.filter(pk=scenario.pk).update(recover_at=when)
        apply_due(tenant_id=scenario.tenant_id, now=now)
    scenario.refresh_from_db()
    return scenario


def clear(*, now: datetime | None = None) -> int:
    """Recover every active scenario now, then forget them all; how many there were."""
    now = now or timezone.now()
    scenarios = list(Scenario.objects.filter(state__in=OPEN_STATES))
    for scenario in scenarios:
        recover(scenario.pk, now=now)
    return Scenario.objects.all().delete()[0]


def listing(*, now: datetime | None = None) -> list[Scenario]:
    """Every scenario, with what is due applied first, so the states shown are current."""
    apply_due(tenant_id=None, now=now)
    return list(Scenario.objects.all())


def as_json(scenario: Scenario) -> dict[str, Any]:
    def stamp(value: datetime | None) -> str | None:
        return format_datetime(value) if value else None

    return {
        "id": scenario.pk,
        "scenario": scenario.kind,
        "tenant": scenario.tenant_id,
        "object": scenario.object_id,
        "disconnected": scenario.disconnected,
        "at": stamp(scenario.at),
        "recover_at": stamp(scenario.recover_at),
        "state": scenario.state,
        "started_at": stamp(scenario.started_at),
        "recovered_at": stamp(scenario.recovered_at),
    }


# --- What each scenario does, and undoes ----------------------------------------------------


def _exchange_down(scenario: Scenario) -> dict[str, Any]:
    connector = ExchangeConnector.objects.filter(pk=scenario.object_id).first()
    if connector is None:
        return {}
    prior = {"status": connector.status, "sync_broken": connector.sync_broken}
    connector.sync_broken = True
    if scenario.disconnected:
        connector.status = "disconnected"
    # It stopped at `at`: a sync recorded after that did not happen.
    last_sync = connector.last_sync_date_time
    if last_sync is not None and last_sync > scenario.at:
        connector.last_sync_date_time = scenario.at
    connector.save(update_fields=["sync_broken", "status", "last_sync_date_time"])
    return prior


def _exchange_up(scenario: Scenario, at: datetime) -> None:
    connector = ExchangeConnector.objects.filter(pk=scenario.object_id).first()
    if connector is None or not scenario.prior:
        return
    connector.status = scenario.prior["status"]
    connector.sync_broken = scenario.prior["sync_broken"]
    if not connector.sync_broken:
        connector.last_sync_date_time = at  # back in touch: it syncs at once
    connector.save(update_fields=["status", "sync_broken", "last_sync_date_time"])


def _set_statuses(connectors: Iterable[AppProxyConnector], status: str) -> dict[str, str]:
    prior = {}
    for connector in connectors:
        prior[connector.pk] = connector.status
        if connector.status != status:
            connector.status = status
            connector.save(update_fields=["status"])
    return prior


def _restore_statuses(statuses: dict[str, str]) -> None:
    for connector in AppProxyConnector.objects.filter(pk__in=list(statuses)):
        connector.status = statuses[connector.pk]
        connector.save(update_fields=["status"])


def _connector_down(scenario: Scenario) -> dict[str, Any]:
    connectors = AppProxyConnector.objects.filter(pk=scenario.object_id)
    return {"statuses": _set_statuses(connectors, "inactive")}


def _group_down(scenario: Scenario) -> dict[str, Any]:
    connectors = AppProxyConnector.objects.filter(group_id=scenario.object_id)
    return {"statuses": _set_statuses(connectors, "inactive")}


def _statuses_up(scenario: Scenario, at: datetime) -> None:
    _restore_statuses(scenario.prior.get("statuses", {}))


_OUTAGES = {
    ScenarioKind.EXCHANGE_STOPS_SYNCING: _exchange_down,
    ScenarioKind.APP_PROXY_INACTIVE: _connector_down,
    ScenarioKind.GROUP_DOWN: _group_down,
}
_RECOVERIES = {
    ScenarioKind.EXCHANGE_STOPS_SYNCING: _exchange_up,
    ScenarioKind.APP_PROXY_INACTIVE: _statuses_up,
    ScenarioKind.GROUP_DOWN: _statuses_up,
}

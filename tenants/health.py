"""One tenant's connectors in the fewest Graph calls: one `$batch` with the three lists, then one
with every group's members (20 per POST), pages followed only when a list has more.

`read_tenant` gives each object's state (`TenantRead`); the health counts of a snapshot are
derived from it (`TenantRead.health()`), so the all-tenants refresh and the watch's sweep share
one read and cannot count differently."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors import paths
from connectors.health import Health, health_for
from connectors.selectors import MIN_ACTIVE_PER_GROUP
from graph.batch import BatchRequest, BatchResult, collection_items
from graph.client import GraphClient
from graph.datetimes import parse_graph_datetime
from graph.errors import GraphPermissionError

PAGE = 999
STALE = (Health.WARNING, Health.NEVER_SYNCED)
ACTIVE = "active"


@dataclass(frozen=True)
class ExchangeState:
    id: str
    name: str
    status: str
    last_sync: datetime | None
    health: Health
    # The connector's identifying and writable settings (EXCHANGE_SETTINGS): the watch's drift.
    settings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProxyConnectorState:
    id: str
    machine_name: str
    status: str

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


@dataclass(frozen=True)
class GroupState:
    id: str
    name: str
    region: str
    member_ids: tuple[str, ...]
    active: int  # members whose status is active

    @property
    def at_risk(self) -> bool:
        """As the App Proxy pages count it: one failure or update takes its applications down."""
        return self.active < MIN_ACTIVE_PER_GROUP


@dataclass(frozen=True)
class TenantHealth:
    exchange_total: int
    exchange_healthy: int
    exchange_unhealthy: int
    exchange_stale: int  # warning or never synced
    # None when App Proxy could not be read (Graph refused it: the roles do not reach it).
    app_proxy_connectors: int | None
    app_proxy_inactive: int | None
    groups_total: int | None
    groups_at_risk: int | None
    error: str = ""


@dataclass(frozen=True)
class TenantRead:
    """Every connector and group of a tenant as one read saw them. App Proxy's lists are None
    when it was not read (its permission missing, or Graph refused it): `error` says why."""

    exchange: tuple[ExchangeState, ...]
    app_proxy_connectors: tuple[ProxyConnectorState, ...] | None
    groups: tuple[GroupState, ...] | None
    error: str = ""

    @property
    def app_proxy_read(self) -> bool:
        return self.app_proxy_connectors is not None and self.groups is not None

    def health(self) -> TenantHealth:
        """The snapshot's counts."""
        healths = [item.health for item in self.exchange]
        connectors, groups = self.app_proxy_connectors, self.groups
        return TenantHealth(
            exchange_total=len(healths),
            exchange_healthy=sum(health == Health.HEALTHY for health in healths),
            exchange_unhealthy=sum(health == Health.UNHEALTHY for health in healths),
            exchange_stale=sum(health in STALE for health in healths),
            app_proxy_connectors=None if connectors is None else len(connectors),
            app_proxy_inactive=(
                None if connectors is None else sum(not item.active for item in connectors)
            ),
            groups_total=None if groups is None else len(groups),
            groups_at_risk=None if groups is None else sum(group.at_risk for group in groups),
            error=self.error,
        )


def _last_sync(item: dict[str, Any]) -> datetime | None:
    value = item.get("lastSyncDateTime")
    return parse_graph_datetime(value) if value else None


def _text(item: dict[str, Any], name: str) -> str:
    return str(item.get(name) or "")


NOT_CONSENTED = (
    "App Proxy not read: open the App Proxy pages once to consent to Directory.ReadWrite.All."
)
EXCHANGE_SETTINGS = (
    "serverName",
    "connectorServerName",
    "exchangeConnectorType",
    "primarySmtpAddress",
    "exchangeAlias",
    "exchangeOrganization",
    "version",
)
EXCHANGE_FIELDS = ",".join(["id", *EXCHANGE_SETTINGS, "lastSyncDateTime", "status"])


def read_tenant(*, graph: GraphClient, now: datetime, app_proxy: bool = True) -> TenantRead:
    """The tenant's objects; `app_proxy=False` reads Exchange only (its permission is missing)."""
    requests = [
        BatchRequest(
            "exchange",
            "GET",
            f"{paths.EXCHANGE_CONNECTORS}?$select={EXCHANGE_FIELDS}&$top={PAGE}",
        )
    ]
    if app_proxy:
        requests += [
            BatchRequest("connectors", "GET", f"{paths.APP_PROXY_CONNECTORS}?$top={PAGE}"),
            BatchRequest("groups", "GET", f"{paths.CONNECTOR_GROUPS}?$top={PAGE}"),
        ]
    lists = graph.batch(requests)
    exchange = tuple(
        ExchangeState(
            id=_text(item, "id"),
            name=_text(item, "serverName") or _text(item, "connectorServerName"),
            status=_text(item, "status"),
            last_sync=_last_sync(item),
            health=health_for(status=item.get("status", ""), last_sync=_last_sync(item), now=now),
            settings={name: _text(item, name) for name in EXCHANGE_SETTINGS},
        )
        for item in collection_items(graph, lists["exchange"])
    )
    if not app_proxy:
        return TenantRead(exchange, None, None, error=NOT_CONSENTED)
    try:
        connectors, groups = _app_proxy(graph, lists)
    except GraphPermissionError as error:
        # A relationship may grant Intune Administrator only: Exchange stands on its own.
        return TenantRead(
            exchange, None, None, error=f"App Proxy not readable here: {error.message}"
        )
    return TenantRead(exchange, connectors, groups)


def _app_proxy(
    graph: GraphClient, lists: dict[str, BatchResult]
) -> tuple[tuple[ProxyConnectorState, ...], tuple[GroupState, ...]]:
    connectors = tuple(
        ProxyConnectorState(
            id=_text(item, "id"),
            machine_name=_text(item, "machineName"),
            status=_text(item, "status"),
        )
        for item in collection_items(graph, lists["connectors"])
    )
    groups = collection_items(graph, lists["groups"])
    active = {connector.id for connector in connectors if connector.active}
    members = graph.batch(
        BatchRequest(f"m{index}", "GET", f"{paths.connector_group_members(group['id'])}?$select=id")
        for index, group in enumerate(groups)
    )
    states = []
    for index, group in enumerate(groups):
        ids = tuple(_text(item, "id") for item in collection_items(graph, members[f"m{index}"]))
        states.append(
            GroupState(
                id=_text(group, "id"),
                name=_text(group, "name"),
                region=_text(group, "region"),
                member_ids=ids,
                active=len(set(ids) & active),
            )
        )
    return connectors, tuple(states)

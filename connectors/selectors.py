"""Reads of the connectors from Graph: lists with search, filters and sort; single objects."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from connectors import paths
from connectors.enums import ExchangeConnectorStatus, ExchangeSyncType, SyncProgress
from connectors.health import Health, health_for
from connectors.records import AppProxyConnector, ConnectorGroup, ExchangeConnector
from graph.batch import BatchRequest
from graph.batch import collection_items as _batch_items
from graph.client import GraphClient

# Graph's page size for the list: the list costs ceil(N / PAGE_SIZE) GETs, never one per row.
PAGE_SIZE = 100


@dataclass(frozen=True)
class ExchangeConnectorRow:
    """A connector with what the list derives from it."""

    connector: ExchangeConnector
    health: Health

    @classmethod
    def of(cls, connector: ExchangeConnector, now: datetime) -> ExchangeConnectorRow:
        return cls(
            connector=connector,
            health=health_for(status=connector.status, last_sync=connector.last_sync, now=now),
        )


EXCHANGE_SORT_KEYS: dict[str, Callable[[ExchangeConnectorRow], Any]] = {
    "serverName": lambda row: row.connector.server_name.lower(),
    "connectorServerName": lambda row: row.connector.connector_server_name.lower(),
    "exchangeConnectorType": lambda row: row.connector.type_label.lower(),
    "status": lambda row: row.connector.status_label.lower(),
    "lastSyncDateTime": lambda row: (
        row.connector.last_sync.timestamp() if row.connector.last_sync else float("-inf")
    ),
    "health": lambda row: list(Health).index(row.health),
    "version": lambda row: _version_key(row.connector.version),
    "primarySmtpAddress": lambda row: row.connector.primary_smtp_address.lower(),
}


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """1.10 sorts after 1.9; odd version strings still sort, after the numeric ones."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in version.split("."))


def exchange_connector_list(
    *,
    graph: GraphClient,
    now: datetime,
    search: str = "",
    status: str = "",
    connector_type: str = "",
    health: str = "",
    sort: str = "serverName",
    descending: bool = False,
) -> list[ExchangeConnectorRow]:
    """Every Exchange connector (all of Graph's pages), filtered and sorted here.

    Filtering here rather than with `$filter` keeps the page correct on tenants whose Graph
    ignores query options on this collection; a tenant has few of these connectors.
    """
    rows = [
        ExchangeConnectorRow.of(connector, now)
        for connector in map(
            ExchangeConnector.from_graph,
            graph.iter_items(paths.EXCHANGE_CONNECTORS, params={"$top": PAGE_SIZE}),
        )
    ]
    needle = search.strip().lower()
    rows = [
        row
        for row in rows
        if (not needle or needle in _searchable(row.connector))
        and (not status or row.connector.status == status)
        and (not connector_type or row.connector.exchange_connector_type == connector_type)
        and (not health or row.health == health)
    ]
    rows.sort(
        key=EXCHANGE_SORT_KEYS.get(sort, EXCHANGE_SORT_KEYS["serverName"]), reverse=descending
    )
    return rows


def _searchable(connector: ExchangeConnector) -> str:
    return " ".join(
        [
            connector.server_name,
            connector.connector_server_name,
            connector.primary_smtp_address,
            connector.exchange_alias,
            connector.exchange_organization,
        ]
    ).lower()


def exchange_connector_get(*, graph: GraphClient, connector_id: str) -> ExchangeConnector:
    response = graph.get(paths.exchange_connector(connector_id))
    return ExchangeConnector.from_graph(response.body or {})


def sync_landed(connector: ExchangeConnector, requested_at: datetime) -> bool:
    """The only evidence of a sync: lastSyncDateTime later than the request."""
    return connector.last_sync is not None and connector.last_sync > requested_at


@dataclass(frozen=True)
class SyncState:
    """What became of a sync request: pending until lastSyncDateTime passes the request, "not
    seen" after SYNC_VERIFY_TIMEOUT_SECONDS, or refused by Graph (`message` says why)."""

    connector_id: str
    requested_at: datetime
    sync_type: ExchangeSyncType
    progress: SyncProgress
    timeout_seconds: int
    message: str = ""

    @property
    def is_pending(self) -> bool:
        return self.progress == SyncProgress.PENDING

    @property
    def landed(self) -> bool:
        return self.progress == SyncProgress.SYNCED

    @property
    def not_seen(self) -> bool:
        return self.progress == SyncProgress.NOT_SEEN

    @property
    def refused(self) -> bool:
        return self.progress == SyncProgress.REFUSED

    @property
    def outcome_unknown(self) -> bool:
        return self.progress == SyncProgress.UNKNOWN

    @property
    def timeout_text(self) -> str:
        """The wait as set, in words: "15 seconds", "1 minute", "90 seconds", "2 minutes"."""
        minutes, seconds = divmod(self.timeout_seconds, 60)
        if seconds or not minutes:
            return f"{self.timeout_seconds} second{'' if self.timeout_seconds == 1 else 's'}"
        return f"{minutes} minute{'' if minutes == 1 else 's'}"


def exchange_connector_sync_state(
    *, connector: ExchangeConnector, requested_at: datetime, sync_type: str, now: datetime
) -> SyncState:
    timeout = settings.SYNC_VERIFY_TIMEOUT_SECONDS
    if sync_landed(connector, requested_at):
        progress = SyncProgress.SYNCED
    elif now - requested_at > timedelta(seconds=timeout):
        progress = SyncProgress.NOT_SEEN
    else:
        progress = SyncProgress.PENDING
    return SyncState(
        connector_id=connector.id,
        requested_at=requested_at,
        sync_type=ExchangeSyncType(sync_type),
        progress=progress,
        timeout_seconds=timeout,
    )


# -- Application Proxy ----------------------------------------------------------------------------

# Microsoft's guidance: at least two active connectors per group, so one can fail or update.
MIN_ACTIVE_PER_GROUP = 2


@dataclass(frozen=True)
class ConnectorGroupRow:
    """A connector group with its connectors (and, when asked for, its applications' count)."""

    group: ConnectorGroup
    connectors: tuple[AppProxyConnector, ...]
    applications: int | None = None

    @property
    def id(self) -> str:
        return self.group.id

    @property
    def display_name(self) -> str:
        return self.group.display_name

    def graph_values(self) -> dict[str, str]:
        return self.group.graph_values()

    def edit_facts(self) -> dict[str, str]:
        """What the edit form checks without asking Graph again (ReviewedEditForm)."""
        return {"region_lock": self.region_lock}

    @property
    def active(self) -> int:
        return sum(connector.is_active for connector in self.connectors)

    @property
    def inactive(self) -> int:
        return len(self.connectors) - self.active

    @property
    def below_minimum(self) -> bool:
        """Fewer than 2 active connectors: one failure or update takes its applications down."""
        return self.group.is_application_proxy and self.active < MIN_ACTIVE_PER_GROUP

    @property
    def region_lock(self) -> str:
        """Why the region cannot be changed now ("" when it can)."""
        if self.connectors or self.applications:
            return (
                "The region can be changed only while the group has no connectors and no "
                f"applications; it has {_usage(self)}."
            )
        return ""

    @property
    def delete_refusal(self) -> str:
        """Why the group cannot be deleted ("" when it can)."""
        if self.group.is_default:
            return "This is the tenant's default group: it cannot be deleted."
        if self.connectors or self.applications:
            return f"Only an empty group can be deleted; this one has {_usage(self)}."
        return ""


def _usage(row: ConnectorGroupRow) -> str:
    connectors = len(row.connectors)
    applications = row.applications or 0
    return (
        f"{connectors} connector{'' if connectors == 1 else 's'} and "
        f"{applications} application{'' if applications == 1 else 's'}"
    )


@dataclass(frozen=True)
class AppProxyConnectorRow:
    """A connector with its group (None when Graph put it in none the dashboard can see)."""

    connector: AppProxyConnector
    group: ConnectorGroup | None


@dataclass(frozen=True)
class AppProxyTenant:
    """Every connector group and connector, each connector with its group."""

    groups: list[ConnectorGroupRow]
    connectors: list[AppProxyConnectorRow]

    def group(self, group_id: str) -> ConnectorGroupRow | None:
        return next((row for row in self.groups if row.group.id == group_id), None)

    def connector(self, connector_id: str) -> AppProxyConnectorRow | None:
        return next((row for row in self.connectors if row.connector.id == connector_id), None)

    def movable_groups(self) -> list[ConnectorGroupRow]:
        """The groups a connector may be moved to: applicationProxy ones only."""
        return [row for row in self.groups if row.group.is_application_proxy]


def app_proxy_tenant_get(*, graph: GraphClient, with_applications: bool = False) -> AppProxyTenant:
    """Groups and connectors in a bounded number of round trips, however many groups there are.

    One paged GET of the groups, one of the connectors, then every group's members (and
    applications) through `$batch`, 20 per POST: 2 + ceil(groups / 20) requests for a tenant
    of up to 100 groups and 100 connectors (twice the batches with applications).
    """
    groups = [
        ConnectorGroup.from_graph(item)
        for item in graph.iter_items(paths.CONNECTOR_GROUPS, params={"$top": PAGE_SIZE})
    ]
    connectors = [
        AppProxyConnector.from_graph(item)
        for item in graph.iter_items(paths.APP_PROXY_CONNECTORS, params={"$top": PAGE_SIZE})
    ]
    requests = [
        BatchRequest(id=f"members-{index}", method="GET", url=paths.connector_group_members(g.id))
        for index, g in enumerate(groups)
    ]
    if with_applications:
        requests += [
            BatchRequest(
                id=f"applications-{index}",
                method="GET",
                url=f"{paths.connector_group_applications(g.id)}?$select=id",
            )
            for index, g in enumerate(groups)
        ]
    answers = graph.batch(requests) if requests else {}
    group_of: dict[str, ConnectorGroup] = {}
    member_ids: list[list[str]] = []
    applications: list[int | None] = []
    for index, group in enumerate(groups):
        ids = [item.get("id", "") for item in _batch_items(graph, answers[f"members-{index}"])]
        member_ids.append(ids)
        group_of.update(dict.fromkeys(ids, group))
        applications.append(
            len(_batch_items(graph, answers[f"applications-{index}"]))
            if with_applications
            else None
        )
    by_id = {connector.id: connector for connector in connectors}
    return AppProxyTenant(
        groups=[
            ConnectorGroupRow(
                group=group,
                connectors=tuple(by_id[i] for i in member_ids[index] if i in by_id),
                applications=applications[index],
            )
            for index, group in enumerate(groups)
        ],
        connectors=[AppProxyConnectorRow(c, group_of.get(c.id)) for c in connectors],
    )


APP_PROXY_SORT_KEYS: dict[str, Callable[[AppProxyConnectorRow], Any]] = {
    "machineName": lambda row: row.connector.machine_name.lower(),
    "externalIp": lambda row: _ip_key(row.connector.external_ip),
    "status": lambda row: row.connector.status_label.lower(),
    "version": lambda row: _version_key(row.connector.version),
    "group": lambda row: row.group.name.lower() if row.group else "",
}


def _ip_key(value: str) -> tuple[int, int, str]:
    """IPv4 before IPv6, numerically; unreadable values last, as text."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return (2, 0, value)
    return (address.version == 6, int(address), "")


def app_proxy_connector_list(
    *,
    tenant: AppProxyTenant,
    search: str = "",
    status: str = "",
    group: str = "",
    version: str = "",
    sort: str = "machineName",
    descending: bool = False,
) -> list[AppProxyConnectorRow]:
    """The tenant's connectors filtered and sorted here (Graph's $filter support varies)."""
    needle = search.strip().lower()
    rows = [
        row
        for row in tenant.connectors
        if (not needle or needle in _app_proxy_searchable(row))
        and (not status or row.connector.status == status)
        and (not group or (row.group is not None and row.group.id == group))
        and (not version or row.connector.version == version)
    ]
    key = APP_PROXY_SORT_KEYS.get(sort, APP_PROXY_SORT_KEYS["machineName"])
    rows.sort(key=key, reverse=descending)  # type: ignore[arg-type]
    return rows


def _app_proxy_searchable(row: AppProxyConnectorRow) -> str:
    parts = [row.connector.machine_name, row.connector.external_ip, row.connector.version]
    return " ".join([*parts, row.group.name if row.group else ""]).lower()


def app_proxy_connector_get(*, graph: GraphClient, connector_id: str) -> AppProxyConnector:
    response = graph.get(paths.app_proxy_connector(connector_id))
    return AppProxyConnector.from_graph(response.body or {})


def app_proxy_connector_group_get(
    *, graph: GraphClient, connector_id: str
) -> ConnectorGroup | None:
    """The group a connector is in (`memberOf`; Graph keeps a connector in exactly one)."""
    items = graph.iter_items(paths.app_proxy_connector_member_of(connector_id))
    return next((ConnectorGroup.from_graph(item) for item in items), None)


def connector_group_get(*, graph: GraphClient, group_id: str) -> ConnectorGroup:
    response = graph.get(paths.connector_group(group_id))
    return ConnectorGroup.from_graph(response.body or {})


def connector_group_row_get(*, graph: GraphClient, group_id: str) -> ConnectorGroupRow:
    """One group with its connectors and applications' count: one `$batch` of three GETs."""
    answers = graph.batch(
        [
            BatchRequest(id="group", method="GET", url=paths.connector_group(group_id)),
            BatchRequest(id="members", method="GET", url=paths.connector_group_members(group_id)),
            BatchRequest(
                id="applications",
                method="GET",
                url=f"{paths.connector_group_applications(group_id)}?$select=id",
            ),
        ]
    )
    if answers["group"].error is not None:
        raise answers["group"].error
    return ConnectorGroupRow(
        group=ConnectorGroup.from_graph(answers["group"].body or {}),
        connectors=tuple(
            AppProxyConnector.from_graph(item) for item in _batch_items(graph, answers["members"])
        ),
        applications=len(_batch_items(graph, answers["applications"])),
    )


@dataclass(frozen=True)
class ExchangeSummary:
    """The Exchange connectors at a glance: how many, and how healthy."""

    total: int
    by_health: dict[str, int]
    disconnected: int


def exchange_connector_summary(*, graph: GraphClient, now: datetime) -> ExchangeSummary:
    rows = exchange_connector_list(graph=graph, now=now)
    return ExchangeSummary(
        total=len(rows),
        by_health={health.value: sum(row.health == health for row in rows) for health in Health},
        disconnected=sum(
            row.connector.status == ExchangeConnectorStatus.DISCONNECTED for row in rows
        ),
    )


@dataclass(frozen=True)
class AppProxySummary:
    """The App Proxy connectors at a glance, and the groups below Microsoft's minimum."""

    connectors: int
    active: int
    groups: int
    below_minimum: tuple[str, ...]


def app_proxy_summary(*, graph: GraphClient) -> AppProxySummary:
    tenant = app_proxy_tenant_get(graph=graph)
    proxy_groups = tenant.movable_groups()
    return AppProxySummary(
        connectors=len(tenant.connectors),
        active=sum(row.connector.is_active for row in tenant.connectors),
        groups=len(proxy_groups),
        below_minimum=tuple(row.group.display_name for row in proxy_groups if row.below_minimum),
    )

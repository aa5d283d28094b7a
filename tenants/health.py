"""One tenant's connector health in the fewest Graph calls: one `$batch` with the three lists,
then one with every group's members (20 per POST), pages followed only when a list has more."""

from __future__ import annotations

from dataclasses import dataclass
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


def _last_sync(item: dict[str, Any]) -> datetime | None:
    value = item.get("lastSyncDateTime")
    return parse_graph_datetime(value) if value else None


NOT_CONSENTED = (
    "App Proxy not read: open the App Proxy pages once to consent to Directory.ReadWrite.All."
)


def tenant_health_read(
    *, graph: GraphClient, now: datetime, app_proxy: bool = True
) -> TenantHealth:
    """The tenant's health; `app_proxy=False` reads Exchange only (its permission is missing)."""
    requests = [
        BatchRequest(
            "exchange",
            "GET",
            f"{paths.EXCHANGE_CONNECTORS}?$select=id,lastSyncDateTime,status&$top={PAGE}",
        )
    ]
    if app_proxy:
        requests += [
            BatchRequest("connectors", "GET", f"{paths.APP_PROXY_CONNECTORS}?$top={PAGE}"),
            BatchRequest("groups", "GET", f"{paths.CONNECTOR_GROUPS}?$top={PAGE}"),
        ]
    lists = graph.batch(requests)
    exchange = [
        health_for(status=item.get("status", ""), last_sync=_last_sync(item), now=now)
        for item in collection_items(graph, lists["exchange"])
    ]
    exchange_counts = {
        "exchange_total": len(exchange),
        "exchange_healthy": sum(health == Health.HEALTHY for health in exchange),
        "exchange_unhealthy": sum(health == Health.UNHEALTHY for health in exchange),
        "exchange_stale": sum(
            health in (Health.WARNING, Health.NEVER_SYNCED) for health in exchange
        ),
    }
    if not app_proxy:
        return TenantHealth(**exchange_counts, **NO_APP_PROXY, error=NOT_CONSENTED)
    try:
        counts = _app_proxy_counts(graph, lists)
    except GraphPermissionError as error:
        # A relationship may grant Intune Administrator only: Exchange stands on its own.
        message = f"App Proxy not readable here: {error.message}"
        return TenantHealth(**exchange_counts, **NO_APP_PROXY, error=message)
    return TenantHealth(**exchange_counts, **counts)


NO_APP_PROXY: dict[str, int | None] = dict.fromkeys(
    ("app_proxy_connectors", "app_proxy_inactive", "groups_total", "groups_at_risk")
)


def _app_proxy_counts(graph: GraphClient, lists: dict[str, BatchResult]) -> dict[str, int]:
    connectors = collection_items(graph, lists["connectors"])
    groups = collection_items(graph, lists["groups"])
    active = {item.get("id") for item in connectors if item.get("status") == "active"}
    members = graph.batch(
        BatchRequest(f"m{index}", "GET", f"{paths.connector_group_members(group['id'])}?$select=id")
        for index, group in enumerate(groups)
    )
    at_risk = 0
    for index in range(len(groups)):
        ids = {item.get("id") for item in collection_items(graph, members[f"m{index}"])}
        # As the App Proxy pages count it: one failure or update takes its applications down.
        if len(ids & active) < MIN_ACTIVE_PER_GROUP:
            at_risk += 1
    return {
        "app_proxy_connectors": len(connectors),
        "app_proxy_inactive": len(connectors) - len(active),
        "groups_total": len(groups),
        "groups_at_risk": at_risk,
    }

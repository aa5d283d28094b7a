"""Reads of the connectors from Graph: lists with search, filters and sort; single objects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors import paths
from connectors.graph.client import GraphClient
from connectors.health import Health, health_for
from connectors.records import ExchangeConnector

# Graph's page size for the list: the list costs ceil(N / PAGE_SIZE) GETs, never one per row.
PAGE_SIZE = 100


@dataclass(frozen=True)
class ExchangeConnectorRow:
    """A connector with what the list derives from it."""

    connector: ExchangeConnector
    health: Health

    @classmethod
    def of(cls, connector: ExchangeConnector, now: datetime) -> ExchangeConnectorRow:
        return cls(connector=connector, health=health_for(connector.last_sync, now))


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

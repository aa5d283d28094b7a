"""Graph paths of the connector resources (GRAPH.md §1–3), relative to the Graph base URL."""

from __future__ import annotations

from urllib.parse import quote

EXCHANGE_CONNECTORS = "/deviceManagement/exchangeConnectors"


def segment(value: str) -> str:
    """An id as exactly one URL path segment, so no id can reach another path."""
    return quote(value, safe="")


def exchange_connector(connector_id: str) -> str:
    return f"{EXCHANGE_CONNECTORS}/{segment(connector_id)}"


def exchange_connector_sync(connector_id: str) -> str:
    return f"{exchange_connector(connector_id)}/sync"

"""Graph paths of the connector resources (GRAPH.md §1–3), relative to the Graph base URL."""

from __future__ import annotations

from urllib.parse import quote

EXCHANGE_CONNECTORS = "/deviceManagement/exchangeConnectors"
APP_PROXY = "/onPremisesPublishingProfiles/applicationProxy"
APP_PROXY_CONNECTORS = f"{APP_PROXY}/connectors"
CONNECTOR_GROUPS = f"{APP_PROXY}/connectorGroups"


def segment(value: str) -> str:
    """An id as exactly one URL path segment, so no id can reach another path."""
    return quote(value, safe="")


def exchange_connector(connector_id: str) -> str:
    return f"{EXCHANGE_CONNECTORS}/{segment(connector_id)}"


def exchange_connector_sync(connector_id: str) -> str:
    return f"{exchange_connector(connector_id)}/sync"


def app_proxy_connector(connector_id: str) -> str:
    return f"{APP_PROXY_CONNECTORS}/{segment(connector_id)}"


def app_proxy_connector_member_of(connector_id: str) -> str:
    return f"{app_proxy_connector(connector_id)}/memberOf"


def app_proxy_connector_member_of_ref(connector_id: str) -> str:
    return f"{app_proxy_connector_member_of(connector_id)}/$ref"


def connector_group(group_id: str) -> str:
    return f"{CONNECTOR_GROUPS}/{segment(group_id)}"


def connector_group_members(group_id: str) -> str:
    return f"{connector_group(group_id)}/members"


def connector_group_applications(group_id: str) -> str:
    return f"{connector_group(group_id)}/applications"

"""Drift in tests: Graph clients for the signed-in admin, and a sweep's result read from the
sandbox the way the watch's sweep reports it (one Observation per object, details with the
settings, a group's region and member ids)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client
from django.utils import timezone

from audit.services import Actor
from connectors.selectors import app_proxy_tenant_get, exchange_connector_list
from graph.client import GraphClient
from kernel.graph_clients import graph_client_for_session
from tests.conftest import ADMIN
from tests.sandbox import factories
from watch.observations import ObjectKind, Observation, SweepResult

TENANT = settings.ENTRA_TENANT_ID
KINDS = frozenset(
    {ObjectKind.EXCHANGE_CONNECTOR, ObjectKind.APP_PROXY_CONNECTOR, ObjectKind.CONNECTOR_GROUP}
)


def _session(client: Client) -> SessionBase:
    """One session object per client: the sandbox rotates refresh tokens, so every Graph client
    must share the cache that holds the newest one."""
    session = getattr(client, "drift_session", None)
    if session is None:
        session = client.drift_session = client.session  # type: ignore[attr-defined]
    return session


def exchange_graph(client: Client) -> GraphClient:
    return graph_client_for_session(_session(client))


def app_proxy_graph(client: Client) -> GraphClient:
    return graph_client_for_session(_session(client), scopes=settings.APP_PROXY_GRAPH_SCOPES)


def admin_actor() -> Actor:
    return Actor(oid="admin-oid", upn=ADMIN, name="Admin", tenant_id=TENANT)


def observed(client: Client, key: str, at: datetime | None = None) -> SweepResult:
    """One sweep of the home tenant, read from the sandbox through Graph."""
    now = at or timezone.now()
    observations = [
        Observation(
            tenant_id=TENANT,
            kind=ObjectKind.EXCHANGE_CONNECTOR,
            object_id=row.connector.id,
            name=row.connector.display_name,
            state=row.health,
            details={"status": row.connector.status, "settings": row.connector.graph_values()},
        )
        for row in exchange_connector_list(graph=exchange_graph(client), now=now)
    ]
    app_proxy = app_proxy_tenant_get(graph=app_proxy_graph(client))
    observations += [
        Observation(
            tenant_id=TENANT,
            kind=ObjectKind.CONNECTOR_GROUP,
            object_id=row.group.id,
            name=row.group.display_name,
            state="ok",
            details={"region": row.group.region, "members": [c.id for c in row.connectors]},
        )
        for row in app_proxy.groups
    ]
    observations += [
        Observation(
            tenant_id=TENANT,
            kind=ObjectKind.APP_PROXY_CONNECTOR,
            object_id=row.connector.id,
            name=row.connector.display_name,
            state=row.connector.status,
            details={"status": row.connector.status},
        )
        for row in app_proxy.connectors
    ]
    return SweepResult(
        tenant_id=TENANT,
        sweep_key=f"{TENANT}:{key}",
        observed_at=now,
        observations=observations,
        read_kinds=KINDS,
    )


def drift_estate() -> dict[str, Any]:
    """Two groups (one the default), a connector in each, one Exchange connector."""
    default = factories.connector_group(name="Default", is_default=True)
    east = factories.connector_group(name="East", region="eur")
    return {
        "default": default,
        "east": east,
        "connector": factories.app_proxy_connector(machine_name="APPPROXY-A", group=default),
        "other": factories.app_proxy_connector(machine_name="APPPROXY-B", group=east),
        "exchange": factories.exchange_connector(server_name="EXCH01.contoso.local"),
    }

"""The JSON API's URLs: /api/v1/ operations, the OpenAPI schema and its interactive docs."""

# One view per operation (HackSoft style): GET list, POST create/, GET <id>/, PATCH <id>/update/,
# DELETE <id>/delete/, POST <id>/sync/ — so each view has one method and one serializer pair.

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from rest_framework.permissions import IsAuthenticated

from audit import apis as audit_apis
from connectors.apis import app_proxy, exchange
from kernel.api.docs import SWAGGER_UI_STYLE_HASH, DocsView, SchemaView
from kernel.api.schema import TENANT_PARAMETER
from tenants import apis as tenant_apis


def api(view: type, **initkwargs: Any) -> Callable[..., Any]:
    # DRF authenticates API requests itself (bearer token or session): the site's sign-in
    # redirect must not answer for it.
    return login_not_required(view.as_view(**initkwargs))


v1 = [
    path("exchange-connectors/", api(exchange.ExchangeConnectorListApi), name="exchange-list"),
    path(
        "exchange-connectors/create/",
        api(exchange.ExchangeConnectorCreateApi),
        name="exchange-create",
    ),
    path(
        "exchange-connectors/sync/",
        api(exchange.ExchangeConnectorBulkSyncApi),
        name="exchange-bulk-sync",
    ),
    path(
        "exchange-connectors/<str:connector_id>/",
        api(exchange.ExchangeConnectorGetApi),
        name="exchange-get",
    ),
    path(
        "exchange-connectors/<str:connector_id>/update/",
        api(exchange.ExchangeConnectorUpdateApi),
        name="exchange-update",
    ),
    path(
        "exchange-connectors/<str:connector_id>/delete/",
        api(exchange.ExchangeConnectorDeleteApi),
        name="exchange-delete",
    ),
    path(
        "exchange-connectors/<str:connector_id>/sync/",
        api(exchange.ExchangeConnectorSyncApi),
        name="exchange-sync",
    ),
    path(
        "app-proxy/connectors/",
        api(app_proxy.AppProxyConnectorListApi),
        name="app-proxy-connector-list",
    ),
    path(
        "app-proxy/connectors/<str:connector_id>/",
        api(app_proxy.AppProxyConnectorGetApi),
        name="app-proxy-connector-get",
    ),
    path(
        "app-proxy/connectors/<str:connector_id>/update/",
        api(app_proxy.AppProxyConnectorUpdateApi),
        name="app-proxy-connector-update",
    ),
    path(
        "app-proxy/connectors/<str:connector_id>/move/",
        api(app_proxy.AppProxyConnectorMoveApi),
        name="app-proxy-connector-move",
    ),
    path("app-proxy/groups/", api(app_proxy.ConnectorGroupListApi), name="connector-group-list"),
    path(
        "app-proxy/groups/create/",
        api(app_proxy.ConnectorGroupCreateApi),
        name="connector-group-create",
    ),
    path(
        "app-proxy/groups/<str:group_id>/",
        api(app_proxy.ConnectorGroupGetApi),
        name="connector-group-get",
    ),
    path(
        "app-proxy/groups/<str:group_id>/update/",
        api(app_proxy.ConnectorGroupUpdateApi),
        name="connector-group-update",
    ),
    path(
        "app-proxy/groups/<str:group_id>/delete/",
        api(app_proxy.ConnectorGroupDeleteApi),
        name="connector-group-delete",
    ),
    path("audit/", api(audit_apis.AuditEntryListApi), name="audit-list"),
    path("audit/csv/", api(audit_apis.AuditEntryCsvApi), name="audit-csv"),
    path("audit/<int:entry_id>/", api(audit_apis.AuditEntryGetApi), name="audit-get"),
    path(
        "intune-audit-events/",
        api(audit_apis.IntuneAuditEventListApi),
        name="intune-audit-events",
    ),
]

# Outside any tenant; a tenant's URLconf has `v1/tenants/<tenant>/` in their place.
v1_outside_tenants = [
    path("tenants/", api(tenant_apis.TenantListApi), name="tenant-list"),
]

# What the schema documents: every operation as today (in the caller's home tenant) and again
# under `/api/v1/tenants/{tenant}/` (the same views: the tenant routing middleware picks the
# tenant from the path and resolves it with that tenant's URLconf, so these patterns only
# describe; `kernel.api.schema.document_tenant_paths` names the parameter).
documented = [
    path("api/v1/", include(v1 + v1_outside_tenants)),
    path(f"api/v1/tenants/<str:{TENANT_PARAMETER}>/", include(v1)),
]

# Like every /api/ URL, the schema and the docs answer only a signed-in caller.
documentation = [
    path(
        "schema/",
        api(SchemaView, permission_classes=[IsAuthenticated], patterns=documented),
        name="schema",
    ),
    path(
        "docs/",
        # Swagger UI's page has one small inline <style>: allowed by its hash, here only.
        csp_update({"style-src": [SWAGGER_UI_STYLE_HASH]})(
            api(DocsView, url_name="api:schema", permission_classes=[IsAuthenticated])
        ),
        name="docs",
    ),
]

urlpatterns = [
    path("v1/", include(v1 + v1_outside_tenants)),
    *documentation,
]

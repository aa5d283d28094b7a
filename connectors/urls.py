"""Every connector page's URL: Exchange connectors, App Proxy connectors and connector groups."""

from __future__ import annotations

from django.urls import include, path

from connectors.views import app_proxy, connector_groups, exchange

exchange_patterns = [
    path("", exchange.exchange_connector_list, name="list"),
    path("new/", exchange.exchange_connector_create, name="new"),
    path("sync/", exchange.exchange_connector_bulk_sync, name="bulk-sync"),
    path("dismiss-banner/", exchange.dismiss_banner, name="dismiss-banner"),
    path("<str:connector_id>/", exchange.exchange_connector_detail, name="detail"),
    path("<str:connector_id>/edit/", exchange.exchange_connector_edit, name="edit"),
    path("<str:connector_id>/delete/", exchange.exchange_connector_delete, name="delete"),
    path("<str:connector_id>/sync/", exchange.exchange_connector_sync, name="sync"),
    path(
        "<str:connector_id>/sync-status/",
        exchange.exchange_connector_sync_status,
        name="sync-status",
    ),
]

app_proxy_patterns = [
    path("", app_proxy.app_proxy_connector_list, name="list"),
    path("<str:connector_id>/", app_proxy.app_proxy_connector_detail, name="detail"),
    path("<str:connector_id>/edit/", app_proxy.app_proxy_connector_edit, name="edit"),
    path("<str:connector_id>/move/", app_proxy.app_proxy_connector_move, name="move"),
]

group_patterns = [
    path("", connector_groups.connector_group_list, name="list"),
    path("new/", connector_groups.connector_group_create, name="new"),
    path("<str:group_id>/", connector_groups.connector_group_detail, name="detail"),
    path("<str:group_id>/edit/", connector_groups.connector_group_edit, name="edit"),
    path("<str:group_id>/delete/", connector_groups.connector_group_delete, name="delete"),
]

urlpatterns = [
    path("exchange-connectors/", include((exchange_patterns, "exchange"))),
    path("app-proxy/connectors/", include((app_proxy_patterns, "app_proxy"))),
    path("app-proxy/groups/", include((group_patterns, "connector_groups"))),
]

"""URLs of the App Proxy pages: connectors (/app-proxy/connectors/), groups (/app-proxy/groups/)."""

from __future__ import annotations

from django.urls import path

from connectors.views import app_proxy, connector_groups

connector_patterns = (
    [
        path("", app_proxy.app_proxy_connector_list, name="list"),
        path("<str:connector_id>/", app_proxy.app_proxy_connector_detail, name="detail"),
        path("<str:connector_id>/edit/", app_proxy.app_proxy_connector_edit, name="edit"),
        path("<str:connector_id>/move/", app_proxy.app_proxy_connector_move, name="move"),
    ],
    "app_proxy",
)

group_patterns = (
    [
        path("", connector_groups.connector_group_list, name="list"),
        path("new/", connector_groups.connector_group_create, name="new"),
        path("<str:group_id>/", connector_groups.connector_group_detail, name="detail"),
        path("<str:group_id>/edit/", connector_groups.connector_group_edit, name="edit"),
        path("<str:group_id>/delete/", connector_groups.connector_group_delete, name="delete"),
    ],
    "connector_groups",
)

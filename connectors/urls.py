"""URLs of the Exchange connector pages (mounted at /exchange-connectors/)."""

from __future__ import annotations

from django.urls import path

from connectors.views import exchange

app_name = "exchange"

urlpatterns = [
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

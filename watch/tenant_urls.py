"""The watch's pages inside a tenant (`/t/<tenant>/watch/…`): its objects' history, and how the
watch sweeps the tenant."""

from __future__ import annotations

from django.urls import path

from watch import history_views

app_name = "watch_tenant"
urlpatterns = [
    path("history/", history_views.history_list, name="history"),
    path("settings/", history_views.watch_settings, name="settings"),
    path(
        "history/<str:kind>/<str:object_id>/",
        history_views.history_detail,
        name="object-history",
    ),
]

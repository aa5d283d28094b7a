"""The watch's URLs."""

from __future__ import annotations

from django.urls import path

from watch import alert_views, views

app_name = "watch"
urlpatterns = [
    path("", views.watch_page, name="page"),
    path("sign-in/", views.watch_sign_in, name="sign-in"),
    path("callback/", views.watch_callback, name="callback"),
    path("revoke/", views.watch_revoke, name="revoke"),
    path("sweep/", views.sweep_all, name="sweep_all"),
    path("alerts/", alert_views.alert_list, name="alerts"),
    path("alerts/rules/", alert_views.rule_list, name="rules"),
    path("alerts/rules/save/", alert_views.rule_save, name="rule-save"),
    path("alerts/rules/reset/", alert_views.rule_reset, name="rule-reset"),
    path("alerts/<int:incident_id>/", alert_views.incident_detail, name="incident"),
    path(
        "alerts/<int:incident_id>/acknowledge/",
        alert_views.incident_acknowledge,
        name="incident-acknowledge",
    ),
    path("alerts/<int:incident_id>/snooze/", alert_views.incident_snooze, name="incident-snooze"),
]

"""The audit log's URLs, under /audit/ (all GET/HEAD only).

`/audit/?target_type=<type>&target_id=<graph id>` is an object's history: build it with
`audit.links.audit_history_url` or the `{% audit_history_url %}` tag.
"""

from __future__ import annotations

from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_list, name="list"),
    path("intune/", views.intune_list, name="intune"),
    path("intune/activity-types/", views.intune_activity_types, name="intune-activity-types"),
    path("intune/for/<str:entry_id>/", views.intune_for_entry, name="intune-for-entry"),
    path("intune/<str:event_id>/", views.intune_detail, name="intune-detail"),
    path("<str:entry_id>/", views.audit_detail, name="detail"),
]

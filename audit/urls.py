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
    path("<str:entry_id>/", views.audit_detail, name="detail"),
]

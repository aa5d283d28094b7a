"""A tenant's drift pages: `/t/<tenant>/watch/drift/`."""

from __future__ import annotations

from django.urls import path

from watch import drift_views

app_name = "drift"
urlpatterns = [
    path("", drift_views.drift_page, name="page"),
    path("baseline/", drift_views.baseline_record, name="record"),
    path("accept/", drift_views.drift_accept, name="accept"),
]

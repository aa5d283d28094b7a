"""A tenant's drift pages, under `/t/<tenant>/watch/drift/`."""

from __future__ import annotations

from django.urls import path

from watch import drift_views

app_name = "drift"
urlpatterns = [
    path("", drift_views.drift_page, name="page"),
    path("baseline/", drift_views.drift_record, name="record"),
    path("check/", drift_views.drift_check_now, name="check"),
    path("<int:finding_id>/accept/", drift_views.drift_accept, name="accept"),
]

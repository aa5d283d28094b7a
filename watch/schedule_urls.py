"""A tenant's scheduled-sync pages, under `/t/<tenant>/watch/schedules/`."""

from __future__ import annotations

from django.urls import path

from watch import schedule_views

app_name = "schedules"
urlpatterns = [
    path("", schedule_views.schedule_list, name="list"),
    path("new/", schedule_views.schedule_create, name="new"),
    path("<int:schedule_id>/edit/", schedule_views.schedule_edit, name="edit"),
    path("<int:schedule_id>/pause/", schedule_views.schedule_pause, name="pause"),
    path("<int:schedule_id>/resume/", schedule_views.schedule_resume, name="resume"),
    path("<int:schedule_id>/delete/", schedule_views.schedule_delete, name="delete"),
]

"""The watch app: Celery tasks, the watch's credentials, heartbeats, task runs and notifications."""

from __future__ import annotations

from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "watch"
    verbose_name = "Watch"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery import current_app

        from watch import checks, history, signals  # noqa: F401  (registers checks and handlers)
        from watch.notifications import dispatch
        from watch.observations import incident_event, sweep_observed
        from watch.worker_steps import Heartbeat

        sweep_observed.connect(history.record, dispatch_uid="watch.history")

        current_app.steps["worker"].add(Heartbeat)
        incident_event.connect(dispatch.on_incident_event, dispatch_uid="watch.notifications")

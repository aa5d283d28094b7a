"""The watch app: Celery tasks, the watch's credentials, heartbeats and task runs."""

from __future__ import annotations

from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "watch"
    verbose_name = "Watch"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery import current_app

        from watch import checks, signals  # noqa: F401  (registers checks and signal handlers)
        from watch.worker_steps import Heartbeat

        current_app.steps["worker"].add(Heartbeat)

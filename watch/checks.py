"""System checks for the watch: its encryption keys and its timeouts."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register


@register()
def watch_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    for position, key in enumerate(settings.WATCH_ENCRYPTION_KEYS, start=1):
        try:
            Fernet(key)
        except ValueError:
            errors.append(
                Error(
                    f"WATCH_ENCRYPTION_KEYS: key {position} is not a Fernet key.",
                    hint="Make one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'",
                    id="watch.E001",
                )
            )
    longest = settings.WATCH_TASK_TIME_LIMIT_SECONDS
    if not settings.CELERY_BROKER_URL.startswith("filesystem://") and (
        longest >= settings.WATCH_VISIBILITY_TIMEOUT_SECONDS
    ):
        errors.append(
            Error(
                "WATCH_VISIBILITY_TIMEOUT_SECONDS must exceed WATCH_TASK_TIME_LIMIT_SECONDS: the "
                "broker would hand a task still running to a second worker.",
                id="watch.E002",
            )
        )
    deadline = settings.GRAPH_BACKGROUND_DEADLINE_SECONDS
    if deadline >= longest:
        errors.append(
            Error(
                "GRAPH_BACKGROUND_DEADLINE_SECONDS must be below WATCH_TASK_TIME_LIMIT_SECONDS: a "
                "task would be killed before its Graph calls give up.",
                id="watch.E003",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def watch_keys_deployed(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if settings.WATCH_ENCRYPTION_KEYS_ARE_DEVELOPMENT:
        return [
            Error(
                "WATCH_ENCRYPTION_KEYS is not set: the watch's stored credentials would be "
                "encrypted with the development key, or could not be stored at all.",
                hint="Set WATCH_ENCRYPTION_KEYS to a Fernet key of your own (keep it outside the "
                "database and its backups).",
                id="watch.E010",
            )
        ]
    return []

"""The dashboard's site shell: sign-in, roles, layout, overview and health check.

The Celery app is loaded with Django, so `@shared_task` tasks bind to it.
"""

from __future__ import annotations

from dashboard.celery import app as celery_app

__all__ = ["celery_app"]

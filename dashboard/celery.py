"""The Celery app: `celery -A dashboard worker` and `celery -A dashboard beat`.

Configured from Django's settings (every `CELERY_*` setting); tasks live in the feature apps'
`tasks.py` modules (the watch's: `watch/tasks.py`).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

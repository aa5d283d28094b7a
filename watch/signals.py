"""A worker's start and stop, written as its heartbeat row (in the worker's main process), and
the time each watch task is sent, carried in its message so its run can tell how long it waited."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.signals import before_task_publish, worker_ready, worker_shutdown
from django.db import DatabaseError, close_old_connections

from watch import heartbeats
from watch.runs import SENT_AT_HEADER

logger = logging.getLogger(__name__)


def _hostname(sender: Any) -> str:
    return str(getattr(sender, "hostname", "") or "")


@worker_ready.connect
def on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    try:
        heartbeats.worker_started(_hostname(sender))
    except DatabaseError:
        logger.exception("Could not record the worker's start")
    finally:
        close_old_connections()


@worker_shutdown.connect
def on_worker_shutdown(sender: Any = None, **kwargs: Any) -> None:
    try:
        heartbeats.worker_stopped(_hostname(sender))
    except DatabaseError:
        logger.exception("Could not record the worker's stop")
    finally:
        close_old_connections()


@before_task_publish.connect
def stamp_sent_at(
    sender: str | None = None, headers: dict[str, Any] | None = None, **kwargs: Any
) -> None:
    if headers is not None and str(sender or "").startswith("watch."):
        headers.setdefault(SENT_AT_HEADER, time.time())

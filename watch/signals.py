"""A worker's start and stop, written as its heartbeat row (in the worker's main process)."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from django.db import DatabaseError, close_old_connections

from watch import heartbeats

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

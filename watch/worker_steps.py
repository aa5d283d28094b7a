"""A bootstep every watch worker runs: its own heartbeat, from its main process.

The heartbeat task reaches one worker per beat; with several workers, this step is what keeps
each one's row fresh (every WATCH_HEARTBEAT_SECONDS), so a worker is shown silent only when it
is. `WatchConfig.ready()` adds it to the Celery app's worker blueprint.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import bootsteps
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from watch import heartbeats

logger = logging.getLogger(__name__)


def _safely(write: Any, hostname: str) -> None:
    try:
        write(hostname)
    except DatabaseError:
        logger.exception("Could not record the heartbeat of %s", hostname)
    finally:
        close_old_connections()


class Heartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.timer_ref: Any = None

    def start(self, worker: Any) -> None:
        _safely(heartbeats.worker_started, worker.hostname)
        self.timer_ref = worker.timer.call_repeatedly(
            settings.WATCH_HEARTBEAT_SECONDS,
            _safely,
            (heartbeats.beat, worker.hostname),
            priority=10,
        )

    def stop(self, worker: Any) -> None:
        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None
        _safely(heartbeats.worker_stopped, worker.hostname)

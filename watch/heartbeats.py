"""Worker heartbeats: a row per worker, written when it starts, by its own timer and by the
heartbeat task (`watch.worker_steps`, `watch.tasks`), and when it stops."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from watch.models import WorkerHeartbeat


def worker_started(hostname: str) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={"pid": os.getpid(), "started_at": now, "last_beat_at": now, "stopped_at": None},
    )


def worker_stopped(hostname: str) -> None:
    WorkerHeartbeat.objects.filter(hostname=hostname).update(stopped_at=timezone.now())


def beat(hostname: str) -> WorkerHeartbeat:
    """The heartbeat task's work: this worker is alive and takes tasks from the queue."""
    now = timezone.now()
    row, created = WorkerHeartbeat.objects.get_or_create(
        hostname=hostname, defaults={"pid": os.getpid(), "started_at": now, "last_beat_at": now}
    )
    if not created:
        row.last_beat_at = now
        row.stopped_at = None
        row.save(update_fields=["last_beat_at", "stopped_at"])
    return row


@dataclass(frozen=True)
class WorkerState:
    hostname: str
    pid: int | None
    started_at: datetime | None
    last_beat_at: datetime | None
    stopped_at: datetime | None
    state: str  # "alive", "silent" (missed heartbeats) or "stopped"


def silence_after() -> timedelta:
    return timedelta(seconds=settings.WATCH_HEARTBEAT_SECONDS * settings.WATCH_HEARTBEAT_MISSED)


def worker_states(*, now: datetime | None = None) -> list[WorkerState]:
    now = now or timezone.now()
    states = []
    for row in WorkerHeartbeat.objects.all():
        if row.stopped_at is not None:
            state = "stopped"
        elif row.last_beat_at is None or now - row.last_beat_at > silence_after():
            state = "silent"
        else:
            state = "alive"
        states.append(
            WorkerState(
                hostname=row.hostname,
                pid=row.pid,
                started_at=row.started_at,
                last_beat_at=row.last_beat_at,
                stopped_at=row.stopped_at,
                state=state,
            )
        )
    return states

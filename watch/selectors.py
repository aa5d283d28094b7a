"""What the watch page shows: its credentials, workers, broker, and each schedule's last run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from watch import broker, credentials, heartbeats
from watch.models import TaskRun, WatchCredential


@dataclass(frozen=True)
class ScheduleState:
    name: str
    task: str
    every: str
    enabled: bool
    sent_at: datetime | None  # when beat last sent it
    next_at: datetime | None
    last_run: TaskRun | None


def schedule_states(*, now: datetime | None = None) -> list[ScheduleState]:
    now = now or timezone.now()
    last_runs: dict[str, TaskRun] = {}
    for run in TaskRun.objects.order_by("-started_at", "-id")[:500]:
        last_runs.setdefault(run.task_name, run)
    states = []
    periodic = PeriodicTask.objects.select_related("interval", "crontab", "solar", "clocked")
    for task in periodic.order_by("name"):
        schedule = task.schedule
        next_at = None
        if task.enabled and task.last_run_at is not None:
            next_at = now + schedule.remaining_estimate(task.last_run_at)
        states.append(
            ScheduleState(
                name=task.name,
                task=task.task,
                every=str(task.interval or task.crontab or task.solar or task.clocked or ""),
                enabled=task.enabled,
                sent_at=task.last_run_at,
                next_at=next_at,
                last_run=last_runs.get(task.task),
            )
        )
    return states


@dataclass(frozen=True)
class WatchOverview:
    credential: WatchCredential | None
    workers: list[heartbeats.WorkerState]
    broker: broker.BrokerStatus
    schedules: list[ScheduleState]
    recent_runs: list[TaskRun]


def watch_overview() -> WatchOverview:
    return WatchOverview(
        credential=credentials.current_credential(),
        workers=heartbeats.worker_states(),
        broker=broker.broker_status(),
        schedules=schedule_states(),
        recent_runs=list(TaskRun.objects.order_by("-started_at", "-id")[:20]),
    )

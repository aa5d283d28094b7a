"""Every watch task records its run: `RecordedTask` is their Celery base class.

A run is keyed by the Celery task id, so a task delivered again (acks_late after a worker died)
updates its own row (`attempts` + 1) instead of adding a second one. The watch page reads the
last run of each task from here.
"""

from __future__ import annotations

import socket
import time
import uuid
from typing import Any

from celery import Task
from celery.exceptions import Retry
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from graph.deadline import graph_deadline
from watch.models import RunStatus, TaskRun

# A message header: when the task was sent (epoch seconds), set by `watch.signals`.
SENT_AT_HEADER = "watch_sent_at"


def worker_name(request: Any) -> str:
    """The worker's name (`celery@host`); a task run in-process (`watch_run --here`) is named
    after the host it ran on."""
    return getattr(request, "hostname", None) or f"here@{socket.gethostname()}"


def schedule_name(request: Any) -> str:
    """The beat schedule that sent the task (django-celery-beat's header), or blank."""
    return getattr(request, "periodic_task_name", None) or ""


def waited_seconds(request: Any) -> float | None:
    """How long the task waited between being sent and starting, when its message says."""
    sent_at = getattr(request, SENT_AT_HEADER, None)
    if not isinstance(sent_at, int | float):
        return None
    return max(0.0, time.time() - sent_at)


def start_run(
    *, task_id: str, task_name: str, schedule: str, worker: str, waited: float | None = None
) -> TaskRun:
    now = timezone.now()
    run, created = TaskRun.objects.get_or_create(
        task_id=task_id,
        defaults={
            "task_name": task_name,
            "schedule": schedule,
            "worker": worker,
            "status": RunStatus.RUNNING,
            "started_at": now,
            "waited_seconds": waited,
        },
    )
    if not created:
        TaskRun.objects.filter(pk=run.pk).update(
            attempts=F("attempts") + 1,
            worker=worker,
            status=RunStatus.RUNNING,
            started_at=now,
            waited_seconds=waited,
            finished_at=None,
            error="",
        )
        run.refresh_from_db()
    return run


def finish_run(run: TaskRun, *, result: Any = None, error: BaseException | None = None) -> None:
    run.finished_at = timezone.now()
    if error is None:
        run.status = RunStatus.SUCCEEDED
        run.result = result if isinstance(result, dict) else {"value": result}
    elif isinstance(error, Retry):  # not a failure: it runs again (str: "Retry in 5s: why")
        run.status = RunStatus.RETRYING
        run.error = str(error)
    else:
        run.status = RunStatus.FAILED
        run.error = f"{type(error).__name__}: {error}"
    run.save(update_fields=["finished_at", "status", "result", "error"])
    _prune(run.task_name)


def _prune(task_name: str) -> None:
    """Keep the newest WATCH_RUNS_KEPT runs of each task."""
    keep = TaskRun.objects.filter(task_name=task_name).values_list("pk", flat=True)[
        : settings.WATCH_RUNS_KEPT
    ]
    TaskRun.objects.filter(task_name=task_name).exclude(pk__in=list(keep)).delete()


class RecordedTask(Task):
    """A Celery task whose every run is a `TaskRun` row (started, then succeeded or failed),
    its Graph work bound by GRAPH_BACKGROUND_DEADLINE_SECONDS."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        request = self.request
        run = start_run(
            task_id=request.id or str(uuid.uuid4()),
            task_name=self.name,
            schedule=schedule_name(request),
            worker=worker_name(request),
            waited=waited_seconds(request),
        )
        try:
            # All of the task's Graph work ends by one deadline, below the task's time limit
            # (system check watch.E003), so a slow Graph fails the run instead of the worker
            # killing it.
            with graph_deadline(settings.GRAPH_BACKGROUND_DEADLINE_SECONDS):
                result = super().__call__(*args, **kwargs)
        except BaseException as error:
            finish_run(run, error=error)
            raise
        finish_run(run, result=result)
        return result

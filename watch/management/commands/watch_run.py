"""`manage.py watch_run <task>`: run one of the watch's tasks now."""

from __future__ import annotations

import json
import time
from typing import Any

from celery import Task
from django.core.management.base import BaseCommand, CommandError, CommandParser

from watch import tasks
from watch.models import RunStatus, TaskRun

TASKS: dict[str, Task] = {
    "heartbeat": tasks.heartbeat,
    "check_credentials": tasks.check_credentials,
    "audit_checkpoint": tasks.audit_checkpoint,
    "deliver_pending": tasks.deliver_pending,
}


class Command(BaseCommand):
    help = "Run one of the watch's tasks now: on a worker through the broker (default), or here."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task", choices=sorted(TASKS), help="the task to run")
        parser.add_argument(
            "--here",
            action="store_true",
            help="run it in this process (same task code) instead of sending it to a worker",
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDS",
            help="wait up to SECONDS for a worker to finish it, and print its result",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        task = TASKS[options["task"]]
        if options["here"]:
            outcome = task.apply(throw=False)
            run = TaskRun.objects.filter(task_id=outcome.id).first()
            self._report(run, outcome.id)
            return
        try:
            sent = task.apply_async(retry=False)
        except Exception as exc:  # kombu raises transport-specific errors
            raise CommandError(f"Could not send the task to the broker: {exc}") from exc
        self.stdout.write(f"Sent {task.name} (task id {sent.id}).")
        if options["wait"] > 0:
            self._report(self._wait(sent.id, options["wait"]), sent.id)

    def _wait(self, task_id: str, seconds: float) -> TaskRun | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            run = TaskRun.objects.filter(task_id=task_id).first()
            if run is not None and run.status != RunStatus.RUNNING:
                return run
            time.sleep(0.2)
        return TaskRun.objects.filter(task_id=task_id).first()

    def _report(self, run: TaskRun | None, task_id: str) -> None:
        if run is None or run.status == RunStatus.RUNNING:
            raise CommandError(f"No worker finished task {task_id} yet (is a worker running?).")
        if run.status == RunStatus.FAILED:
            raise CommandError(f"{run.task_name} failed: {run.error}")
        self.stdout.write(f"{run.task_name} succeeded on {run.worker}: {json.dumps(run.result)}")

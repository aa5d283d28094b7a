"""`manage.py watch_run <task>`: run one of the watch's tasks now; `watch_run sweep [--tenant X]`
sweeps every watched tenant (or one) now."""

from __future__ import annotations

import json
import time
from typing import Any

from celery import Task
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.models import ManagedTenant
from tenants.selectors import managed_tenant_get
from watch import sweeps, tasks
from watch.models import RunStatus, TaskRun

TASKS: dict[str, Task] = {
    "heartbeat": tasks.heartbeat,
    "check_credentials": tasks.check_credentials,
    "audit_checkpoint": tasks.audit_checkpoint,
    "dispatch_sweeps": tasks.dispatch_sweeps,
    "sweep": tasks.sweep_tenant,
    "prune_history": tasks.prune_history,
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
        parser.add_argument(
            "--tenant",
            metavar="ID_OR_DOMAIN",
            help="sweep: this managed tenant only (default: every watched tenant)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        task = TASKS[options["task"]]
        if options["tenant"] and task is not tasks.sweep_tenant:
            raise CommandError("--tenant goes with the sweep task only.")
        for arguments in self._arguments(task, options["tenant"]):
            self._run(task, arguments, here=options["here"], wait=options["wait"])

    def _arguments(self, task: Task, tenant: str | None) -> list[list[str]]:
        """One run per tenant for a sweep; one run without arguments for the others."""
        if task is not tasks.sweep_tenant:
            return [[]]
        if tenant:
            found = managed_tenant_get(segment=tenant)
            if found is None:
                raise CommandError(f"No managed tenant {tenant!r} (see /tenants/).")
            return [[found.tenant_id]]
        watched: list[ManagedTenant] = [item.tenant for item in sweeps.watched_tenants()]
        if not watched:
            raise CommandError("No tenant is watched: add or discover tenants on /tenants/.")
        return [[tenant.tenant_id] for tenant in watched]

    def _run(self, task: Task, arguments: list[str], *, here: bool, wait: float) -> None:
        if here:
            outcome = task.apply(args=arguments, throw=False)
            run = TaskRun.objects.filter(task_id=outcome.id).first()
            self._report(run, outcome.id)
            return
        try:
            sent = task.apply_async(args=arguments, retry=False)
        except Exception as exc:  # kombu raises transport-specific errors
            raise CommandError(f"Could not send the task to the broker: {exc}") from exc
        named = " ".join([task.name, *arguments])
        self.stdout.write(f"Sent {named} (task id {sent.id}).")
        if wait > 0:
            self._report(self._wait(sent.id, wait), sent.id)

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

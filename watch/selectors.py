"""What the watch page shows: its credentials, workers, broker, each schedule's last run, and
each watched tenant's last and next sweep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from kernel.tenancy import tenant_path
from tenants.models import ManagedTenant
from watch import broker, credentials, heartbeats, sweeps
from watch.models import Sweep, SweepStatus, TaskRun, WatchCredential


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
class TenantSweeps:
    """A watched tenant's sweeps: the last one (and how late it started), the one under way,
    and when the next is due."""

    tenant_id: str
    label: str
    interval: int
    last: Sweep | None  # the last finished (done, failed or deferred)
    running: Sweep | None
    next_at: datetime | None  # None while the watch is off

    @property
    def lag_seconds(self) -> float | None:
        return self.last.lag_seconds if self.last else None

    @property
    def history_url(self) -> str:
        return tenant_path(self.tenant_id, "watch/history/")

    @property
    def settings_url(self) -> str:
        return tenant_path(self.tenant_id, "watch/settings/")


FINISHED = [SweepStatus.DONE, SweepStatus.FAILED, SweepStatus.DEFERRED]


def tenant_sweeps(*, now: datetime | None = None) -> list[TenantSweeps]:
    """Every watched tenant's last and next sweep, in three queries however many tenants."""
    now = now or timezone.now()
    watched = sweeps.watched_tenants()
    on = sweeps.watch_is_on()
    by_tenant = Sweep.objects.filter(tenant=OuterRef("pk"))
    annotated = ManagedTenant.objects.filter(pk__in=[item.tenant.pk for item in watched]).annotate(
        last_id=Subquery(
            by_tenant.filter(status__in=FINISHED).order_by("-finished_at", "-id").values("id")[:1]
        ),
        running_id=Subquery(
            by_tenant.filter(status=SweepStatus.RUNNING).order_by("-started_at").values("id")[:1]
        ),
    )
    pointers = {row.pk: (row.last_id, row.running_id) for row in annotated}
    wanted = [pk for pair in pointers.values() for pk in pair if pk is not None]
    rows = Sweep.objects.in_bulk(wanted)
    states = []
    for item in watched:
        last_id, running_id = pointers.get(item.tenant.pk, (None, None))
        tenant_id = item.tenant.tenant_id
        states.append(
            TenantSweeps(
                tenant_id=tenant_id,
                label=item.tenant.label,
                interval=item.interval,
                last=rows.get(last_id) if last_id else None,
                running=rows.get(running_id) if running_id else None,
                next_at=(
                    sweeps.next_due(tenant_id, item.interval, at_or_after=now) if on else None
                ),
            )
        )
    return sorted(states, key=lambda state: state.label.lower())


@dataclass(frozen=True)
class LeftOut:
    """A tenant an Admin turned the watch off for, and where its watch settings are."""

    label: str
    settings_url: str


@dataclass(frozen=True)
class WatchOverview:
    credential: WatchCredential | None
    workers: list[heartbeats.WorkerState]
    broker: broker.BrokerStatus
    schedules: list[ScheduleState]
    recent_runs: list[TaskRun]
    tenant_sweeps: list[TenantSweeps]
    left_out: list[LeftOut]  # an Admin turned the watch off for them


def watch_overview() -> WatchOverview:
    return WatchOverview(
        credential=credentials.current_credential(),
        workers=heartbeats.worker_states(),
        broker=broker.broker_status(),
        schedules=schedule_states(),
        recent_runs=list(TaskRun.objects.order_by("-started_at", "-id")[:20]),
        tenant_sweeps=tenant_sweeps(),
        left_out=[
            LeftOut(tenant.label, tenant_path(tenant.tenant_id, "watch/settings/"))
            for tenant in ManagedTenant.objects.filter(watch_setting__enabled=False)
        ],
    )

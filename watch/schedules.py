"""Scheduled syncs as an Admin keeps them: each `ScheduledSync` owns one django-celery-beat
`PeriodicTask` (an `IntervalSchedule`, or a `CrontabSchedule` in the admin's time zone) that
sends `watch.scheduled_sync(schedule_id)`. Beat's own scheduler computes every run time, DST
included; nothing here schedules by hand.

Creating, editing, pausing, resuming and deleting a schedule are local changes (no Graph call),
each one audit row (`_record`), as the watch's credentials are.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from audit.models import Action, Outcome, Phase, TargetType
from audit.services import Actor, Target, audit_record
from watch.models import ScheduledSync

TASK = "watch.scheduled_sync"
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class ScheduleSpec:
    """What the form decided (already valid): the schedule's every setting but its state."""

    name: str
    sync_type: str
    all_connectors: bool
    connector_names: dict[str, str]  # id -> name of the picked connectors
    timezone: str
    every_minutes: int | None = None
    cron: str = ""
    window_start: time | None = None
    window_end: time | None = None
    window_days: list[int] = field(default_factory=list)

    def values(self) -> dict[str, object]:
        return {
            "name": self.name,
            "sync_type": self.sync_type,
            "all_connectors": self.all_connectors,
            "connector_ids": [] if self.all_connectors else list(self.connector_names),
            "connector_names": {} if self.all_connectors else dict(self.connector_names),
            "timezone": self.timezone,
            "every_minutes": self.every_minutes,
            "cron": self.cron,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "window_days": sorted(self.window_days),
        }


def cron_parts(cron: str) -> dict[str, str]:
    """ "30 2 * * 1-5" -> CrontabSchedule's fields (minute, hour, day of month, month, weekday)."""
    return dict(zip(CRON_FIELDS, cron.split(), strict=True))


def _beat_schedule(schedule: ScheduledSync) -> dict[str, object]:
    if schedule.cron:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            **cron_parts(schedule.cron), timezone=ZoneInfo(schedule.timezone)
        )
        return {"crontab": crontab, "interval": None}
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=schedule.every_minutes or 1, period=IntervalSchedule.MINUTES
    )
    return {"interval": interval, "crontab": None}


def _keep_task(schedule: ScheduledSync) -> None:
    """Create or update the schedule's PeriodicTask to match it (enabled unless paused)."""
    values = {
        "name": f"scheduled sync {schedule.pk}: {schedule.name}"[:200],
        "task": TASK,
        "kwargs": json.dumps({"schedule_id": schedule.pk}),
        "enabled": not schedule.paused,
        "description": f"Scheduled sync '{schedule.name}' in {schedule.tenant_id}, made by "
        f"{schedule.created_by}",
        **_beat_schedule(schedule),
    }
    task = schedule.periodic_task
    if task is None:
        schedule.periodic_task = PeriodicTask.objects.create(**values)
        schedule.save(update_fields=["periodic_task"])
        return
    for name, value in values.items():
        setattr(task, name, value)
    task.save()  # django-celery-beat's signal tells beat its schedules changed


def _audited_values(schedule: ScheduledSync) -> dict[str, object]:
    """What an audit row keeps of a schedule (JSON-safe)."""
    return {
        "tenant": schedule.tenant_id,
        "sync_type": schedule.sync_type,
        "targets": "every Exchange connector"
        if schedule.all_connectors
        else sorted(schedule.connector_names.values()),
        "when": when_text(schedule),
        "timezone": schedule.timezone,
        "window": window_text(schedule),
        "paused": schedule.paused,
    }


def _record(actor: Actor, action: str, schedule: ScheduledSync, **values: object) -> None:
    """One local change (no Graph call): a single outcome row, as watch.credentials does."""
    audit_record(
        actor=actor,
        action=action,
        target=Target(type=TargetType.SCHEDULED_SYNC, id=str(schedule.pk), name=schedule.name),
        phase=Phase.OUTCOME,
        correlation_id=uuid.uuid4(),
        outcome=Outcome.SUCCEEDED,
        after=values,
    )


@transaction.atomic
def schedule_create(
    *, actor: Actor, tenant_id: str, tenant_name: str, spec: ScheduleSpec
) -> ScheduledSync:
    schedule = ScheduledSync.objects.create(
        tenant_id=tenant_id, tenant_name=tenant_name, created_by=actor.upn, **spec.values()
    )
    _keep_task(schedule)
    _record(actor, Action.SCHEDULED_SYNC_CREATE, schedule, **_audited_values(schedule))
    return schedule


@transaction.atomic
def schedule_update(*, actor: Actor, schedule: ScheduledSync, spec: ScheduleSpec) -> ScheduledSync:
    before = _audited_values(schedule)
    for name, value in spec.values().items():
        setattr(schedule, name, value)
    schedule.save()
    _keep_task(schedule)
    after = _audited_values(schedule)
    changed = {name: value for name, value in after.items() if before.get(name) != value}
    _record(actor, Action.SCHEDULED_SYNC_UPDATE, schedule, **changed)
    return schedule


@transaction.atomic
def schedule_pause(*, actor: Actor, schedule: ScheduledSync, paused: bool) -> ScheduledSync:
    """Pause (beat stops sending it; a run already sent is skipped) or resume; audited."""
    if schedule.paused == paused:
        return schedule
    schedule.paused = paused
    schedule.save(update_fields=["paused", "updated_at"])
    _keep_task(schedule)
    action = Action.SCHEDULED_SYNC_PAUSE if paused else Action.SCHEDULED_SYNC_RESUME
    _record(actor, action, schedule, paused=paused)
    return schedule


@transaction.atomic
def schedule_delete(*, actor: Actor, schedule: ScheduledSync) -> None:
    """Delete the schedule, its PeriodicTask and its runs; the audit row keeps what it was."""
    values = _audited_values(schedule)
    _record(actor, Action.SCHEDULED_SYNC_DELETE, schedule, **values)
    if schedule.periodic_task is not None:
        schedule.periodic_task.delete()
    schedule.delete()


# -- reading a schedule ------------------------------------------------------------------------


def when_text(schedule: ScheduledSync) -> str:
    if schedule.cron:
        return f"cron {schedule.cron} ({schedule.timezone})"
    minutes = schedule.every_minutes or 0
    return f"every {minutes} minute{'' if minutes == 1 else 's'}"


def window_text(schedule: ScheduledSync) -> str:
    if schedule.window_start is None or schedule.window_end is None:
        return ""
    days = ", ".join(WEEKDAYS[day] for day in sorted(schedule.window_days))
    return (
        f"{schedule.window_start:%H:%M}–{schedule.window_end:%H:%M} {schedule.timezone}"
        f"{f' on {days}' if days else ''}"
    )


def in_window(schedule: ScheduledSync, at: datetime) -> bool:
    """Whether `at` falls in the schedule's maintenance window, in the schedule's time zone."""
    if schedule.window_start is None or schedule.window_end is None:
        return False
    local = at.astimezone(ZoneInfo(schedule.timezone))
    if schedule.window_days and local.weekday() not in schedule.window_days:
        return False
    return schedule.window_start <= local.time().replace(tzinfo=None) < schedule.window_end


def next_run_at(task: PeriodicTask, now: datetime) -> datetime | None:
    """When beat will next send the task, as django-celery-beat's schedule computes it from the
    last run (or, never run, from when the task last changed, as beat's ModelEntry does)."""
    if not task.enabled:
        return None
    schedule = task.schedule
    schedule.nowfun = lambda: now
    last = task.last_run_at or task.date_changed or now
    return now + max(schedule.remaining_estimate(last), timedelta(0))


def cron_next_runs(cron: str, tz: str, after: datetime, count: int) -> list[datetime]:
    """The next `count` run times of a crontab in `tz` after `after`, as beat computes them:
    each from the one before, as if it ran on time (what the DST tests read)."""
    schedule = CrontabSchedule(**cron_parts(cron), timezone=ZoneInfo(tz)).schedule
    runs: list[datetime] = []
    last = after
    for _ in range(count):
        schedule.nowfun = lambda at=last: at
        last = last + schedule.remaining_estimate(last)
        runs.append(last)
    return runs

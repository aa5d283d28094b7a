"""When a scheduled sync runs, as django-celery-beat computes it (its time-zone-aware crontab),
across daylight-saving changes: the wall-clock time in the admin's zone is kept, a local time
that does not exist runs once an hour later, and a local time that happens twice runs once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from audit.services import Actor
from watch import schedules

MAKER = Actor(oid="maker-oid", upn="maker@sandbox.example", name="Maker", tenant_id="")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def runs(cron: str, tz: str, after: str, count: int = 3) -> list[str]:
    """The next runs in UTC and in local time, e.g. "2026-03-29 07:00Z = 09:00+0200"."""
    return [
        f"{run.astimezone(UTC):%Y-%m-%d %H:%MZ} = {run.astimezone(schedules.ZoneInfo(tz)):%H:%M%z}"
        for run in schedules.cron_next_runs(cron, tz, utc(after), count)
    ]


def test_berlin_spring_forward_keeps_9am_local() -> None:
    assert runs("0 9 * * *", "Europe/Berlin", "2026-03-27 12:00") == [
        "2026-03-28 08:00Z = 09:00+0100",
        "2026-03-29 07:00Z = 09:00+0200",  # summer time from 2026-03-29 02:00
        "2026-03-30 07:00Z = 09:00+0200",
    ]


def test_berlin_spring_forward_runs_a_missing_local_time_once_an_hour_later() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29 (02:00 -> 03:00): the run comes at 03:30.
    assert runs("30 2 * * *", "Europe/Berlin", "2026-03-27 12:00") == [
        "2026-03-28 01:30Z = 02:30+0100",
        "2026-03-29 01:30Z = 03:30+0200",
        "2026-03-30 00:30Z = 02:30+0200",
    ]


def test_berlin_fall_back_keeps_9am_local() -> None:
    assert runs("0 9 * * *", "Europe/Berlin", "2026-10-23 12:00") == [
        "2026-10-24 07:00Z = 09:00+0200",
        "2026-10-25 08:00Z = 09:00+0100",  # standard time from 2026-10-25 03:00
        "2026-10-26 08:00Z = 09:00+0100",
    ]


def test_berlin_fall_back_runs_a_repeated_local_time_once() -> None:
    # 02:30 happens twice in Berlin on 2026-10-25: one run, at the first.
    assert runs("30 2 * * *", "Europe/Berlin", "2026-10-23 12:00") == [
        "2026-10-24 00:30Z = 02:30+0200",
        "2026-10-25 00:30Z = 02:30+0200",
        "2026-10-26 01:30Z = 02:30+0100",
    ]


def test_berlin_fall_back_an_hourly_schedule_does_not_run_the_repeated_hour_twice() -> None:
    assert runs("0 * * * *", "Europe/Berlin", "2026-10-24 23:50", 3) == [
        "2026-10-25 00:00Z = 02:00+0200",
        "2026-10-25 02:00Z = 03:00+0100",
        "2026-10-25 03:00Z = 04:00+0100",
    ]


def test_new_york_spring_forward_and_fall_back() -> None:
    assert runs("0 9 * * *", "America/New_York", "2026-03-06 20:00") == [
        "2026-03-07 14:00Z = 09:00-0500",
        "2026-03-08 13:00Z = 09:00-0400",  # EDT from 2026-03-08 02:00
        "2026-03-09 13:00Z = 09:00-0400",
    ]
    # 01:30 happens twice on 2026-11-01 in New York: one run, at the first (EDT).
    assert runs("30 1 * * *", "America/New_York", "2026-10-30 20:00") == [
        "2026-10-31 05:30Z = 01:30-0400",
        "2026-11-01 05:30Z = 01:30-0400",
        "2026-11-02 06:30Z = 01:30-0500",
    ]


def test_weekday_ranges_are_read_in_the_local_zone() -> None:
    # Monday to Friday at 23:30 in New York is Tuesday to Saturday in UTC.
    assert runs("30 23 * * 1-5", "America/New_York", "2026-12-04 12:00", 2) == [
        "2026-12-05 04:30Z = 23:30-0500",  # Friday night local, Saturday in UTC
        "2026-12-08 04:30Z = 23:30-0500",  # then Monday night
    ]


@pytest.mark.django_db
def test_the_list_s_next_run_is_beat_s_for_the_schedule_s_periodic_task() -> None:
    schedule = schedules.schedule_create(
        actor=MAKER,
        tenant_id=settings.ENTRA_TENANT_ID,
        tenant_name="",
        spec=schedules.ScheduleSpec(
            name="mornings",
            sync_type="fullSync",
            all_connectors=True,
            connector_names={},
            timezone="Europe/Berlin",
            cron="0 9 * * *",
        ),
    )
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert task.crontab.timezone == schedules.ZoneInfo("Europe/Berlin")
    task.last_run_at = utc("2026-03-28 08:00")

    assert schedules.next_run_at(task, utc("2026-03-28 12:00")) == utc("2026-03-29 07:00")


@pytest.mark.django_db
def test_an_interval_schedule_s_next_run_follows_its_last_run() -> None:
    schedule = schedules.schedule_create(
        actor=MAKER,
        tenant_id=settings.ENTRA_TENANT_ID,
        tenant_name="",
        spec=schedules.ScheduleSpec(
            name="often",
            sync_type="deltaSync",
            all_connectors=True,
            connector_names={},
            timezone="UTC",
            every_minutes=15,
        ),
    )
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    now = timezone.now()
    task.last_run_at = now - timedelta(minutes=5)

    assert schedules.next_run_at(task, now) == now + timedelta(minutes=10)
    task.enabled = False
    assert schedules.next_run_at(task, now) is None

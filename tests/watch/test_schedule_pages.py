"""The scheduled-sync pages of a tenant: Admins create, edit, pause, resume and delete (each
audited); every field tried with bad values; Operators and Readers only look."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from audit.models import AuditEntry, Channel
from sandbox.models import ExchangeConnector, RequestLog
from tests.conftest import ADMIN, without_home_tenant
from tests.sandbox.factories import exchange_connector
from watch.models import ScheduledSync, ScheduleRun, ScheduleRunOutcome

BASE = f"/t/{settings.ENTRA_TENANT_ID}/watch/schedules/"


@pytest.fixture
def connectors(db: None) -> list[ExchangeConnector]:
    return [exchange_connector(), exchange_connector()]


def form(picked: list[ExchangeConnector], /, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Weeknights",
        "sync_type": "fullSync",
        "targets": "some",
        "connectors": [c.id for c in picked],
        "kind": "interval",
        "every_minutes": "30",
        "cron": "",
        "timezone": "Europe/Berlin",
        "window_start": "",
        "window_end": "",
        "window_days": [],
    }
    values.update(changes)
    return values


def test_an_admin_schedules_a_sync_and_beat_has_it(
    admin_client: Client, connectors: list[ExchangeConnector]
) -> None:
    page = admin_client.get(f"{BASE}new/").content.decode()
    assert all(c.server_name in page for c in connectors)  # picked from the tenant's Graph

    response = admin_client.post(f"{BASE}new/", form(connectors))

    assert response.status_code == 302 and response["Location"] == without_home_tenant(BASE)
    schedule = ScheduledSync.objects.get()
    assert (schedule.name, schedule.sync_type, schedule.every_minutes) == (
        "Weeknights",
        "fullSync",
        30,
    )
    assert schedule.connector_names == {c.id: c.server_name for c in connectors}
    assert (schedule.tenant_id, schedule.created_by) == (settings.ENTRA_TENANT_ID, ADMIN)
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert (task.task, json.loads(task.kwargs), task.enabled) == (
        "watch.scheduled_sync",
        {"schedule_id": schedule.pk},
        True,
    )
    assert (task.interval.every, task.interval.period) == (30, "minutes")
    entry = AuditEntry.objects.get(action="scheduledSync.create")
    assert (entry.actor_upn, entry.channel, entry.target_id) == (
        ADMIN,
        Channel.WEB,
        str(schedule.pk),
    )
    assert entry.after["sync_type"] == "fullSync"
    assert entry.after["targets"] == sorted(c.server_name for c in connectors)
    # Nothing is sent to Graph by scheduling.
    assert not RequestLog.objects.exclude(method="GET").exists()

    listing = admin_client.get(BASE).content.decode()
    assert "Weeknights" in listing and "every 30 minutes" in listing
    assert all(c.server_name in listing for c in connectors)
    assert "none yet" in listing  # no run yet; the next one is due in 30 minutes
    assert "Full sync, made by admin@sandbox.example" in listing


def test_a_cron_schedule_in_the_admin_s_time_zone(
    admin_client: Client, connectors: list[ExchangeConnector]
) -> None:
    response = admin_client.post(
        f"{BASE}new/",
        form(
            connectors,
            targets="all",
            connectors=[],
            kind="cron",
            cron=" 30  2 * *  1-5 ",
            timezone="America/New_York",
            window_start="08:00",
            window_end="18:00",
            window_days=["0", "1", "2", "3", "4"],
        ),
    )

    assert response.status_code == 302
    schedule = ScheduledSync.objects.get()
    assert (schedule.all_connectors, schedule.connector_ids) == (True, [])
    assert (schedule.cron, schedule.every_minutes, schedule.window_days) == (
        "30 2 * * 1-5",
        None,
        [0, 1, 2, 3, 4],
    )
    crontab = PeriodicTask.objects.get(pk=schedule.periodic_task_id).crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("30", "2", "1-5")
    assert str(crontab.timezone) == "America/New_York"
    listing = admin_client.get(BASE).content.decode()
    assert "cron 30 2 * * 1-5 (America/New_York)" in listing
    assert "Every Exchange connector" in listing
    assert "skips 08:00–18:00 America/New_York on Mon, Tue, Wed, Thu, Fri" in listing
    # The next run as beat computes it, shown in the schedule's zone: 02:30 on a weekday.
    assert re.search(r"\d{4}-\d\d-\d\d 02:30 E[SD]T</time>", listing), listing


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"sync_type": "turboSync"}, "sync_type", "Select a valid choice."),
        ({"connectors": []}, "connectors", "Pick at least one connector"),
        ({"connectors": ["not-a-connector"]}, "connectors", "Select a valid choice."),
        ({"targets": ""}, "targets", "This field is required."),
        ({"every_minutes": ""}, "every_minutes", "Say how many minutes apart"),
        ({"every_minutes": "0"}, "every_minutes", "greater than or equal to 1"),
        ({"every_minutes": "ten"}, "every_minutes", "Enter a whole number."),
        ({"every_minutes": "20000"}, "every_minutes", "less than or equal to 10080"),
        ({"kind": "cron", "cron": ""}, "cron", "Enter a cron expression"),
        ({"kind": "cron", "cron": "* * *"}, "cron", "A cron expression has five fields"),
        ({"kind": "cron", "cron": "61 * * * *"}, "cron", "Minute &#x27;61&#x27; is not valid"),
        ({"kind": "cron", "cron": "0 25 * * *"}, "cron", "Hour &#x27;25&#x27; is not valid"),
        ({"kind": "cron", "cron": "0 9 * * 8"}, "cron", "Weekday &#x27;8&#x27; is not valid"),
        ({"kind": "cron", "cron": "*/0 * * * *"}, "cron", "is not valid"),
        ({"kind": "cron", "cron": "0 9 31 2 *"}, "cron", "Beat could not follow it"),
        ({"kind": "sometimes"}, "kind", "Select a valid choice."),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "is not an IANA time zone"),
        ({"timezone": "CEST"}, "timezone", "is not an IANA time zone"),
        ({"timezone": ""}, "timezone", "This field is required."),
        (
            {"window_start": "18:00", "window_end": "08:00", "window_days": ["5"]},
            "window_end",
            "The window must end after it starts",
        ),
        (
            {"window_start": "08:00", "window_end": "08:00", "window_days": ["5"]},
            "window_end",
            "The window must end after it starts",
        ),
        (
            {"window_start": "08:00", "window_end": "", "window_days": ["5"]},
            "window_end",
            "needs both a start and an end",
        ),
        (
            {"window_start": "08:00", "window_end": "09:00"},
            "window_days",
            "Pick the days",
        ),
        ({"window_days": ["5"]}, "window_start", "Days were picked"),
        ({"window_start": "25:00", "window_end": "09:00"}, "window_start", "Enter a valid time."),
        ({"window_days": ["9"]}, "window_days", "Select a valid choice."),
    ],
)
def test_bad_input_is_shown_on_its_field_kept_and_nothing_is_scheduled(
    admin_client: Client,
    connectors: list[ExchangeConnector],
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = admin_client.post(f"{BASE}new/", form(connectors, **changes))

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    page = response.content.decode()
    assert message in page
    # What was typed is still there.
    for name, value in changes.items():
        if isinstance(value, str) and value and name not in {"targets", "kind", "sync_type"}:
            assert f'value="{value.strip()}"' in page or value in page
    assert not ScheduledSync.objects.exists()
    assert not PeriodicTask.objects.filter(task="watch.scheduled_sync").exists()
    assert not AuditEntry.objects.filter(action__startswith="scheduledSync").exists()
    assert not RequestLog.objects.exclude(method="GET").exists()


def test_htmx_form_errors_answer_422(
    admin_client: Client, connectors: list[ExchangeConnector]
) -> None:
    response = admin_client.post(
        f"{BASE}new/", form(connectors, timezone="Nowhere"), headers={"HX-Request": "true"}
    )
    assert response.status_code == 422


def test_two_schedules_of_a_tenant_cannot_share_a_name(
    admin_client: Client, connectors: list[ExchangeConnector]
) -> None:
    admin_client.post(f"{BASE}new/", form(connectors))

    response = admin_client.post(f"{BASE}new/", form(connectors, name="weeknights"))

    assert response.status_code == 400
    assert "already has a scheduled sync with this name" in response.content.decode()
    assert ScheduledSync.objects.count() == 1


def test_editing_moves_beat_to_the_new_schedule_and_is_audited(
    admin_client: Client, connectors: list[ExchangeConnector]
) -> None:
    admin_client.post(f"{BASE}new/", form(connectors))
    schedule = ScheduledSync.objects.get()
    page = admin_client.get(f"{BASE}{schedule.pk}/edit/").content.decode()
    assert 'value="Weeknights"' in page and 'value="30"' in page

    response = admin_client.post(
        f"{BASE}{schedule.pk}/edit/",
        form(connectors[:1], kind="cron", cron="0 9 * * *", sync_type="deltaSync"),
    )

    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.cron, schedule.every_minutes, schedule.sync_type) == (
        "0 9 * * *",
        None,
        "deltaSync",
    )
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert task.interval is None and (task.crontab.minute, task.crontab.hour) == ("0", "9")
    entry = AuditEntry.objects.get(action="scheduledSync.update")
    assert entry.after == {
        "sync_type": "deltaSync",
        "targets": [connectors[0].server_name],
        "when": "cron 0 9 * * * (Europe/Berlin)",
    }


def test_pause_resume_and_delete_are_audited_and_reach_beat(
    admin_client: Client, connectors: list[ExchangeConnector]
) -> None:
    admin_client.post(f"{BASE}new/", form(connectors))
    schedule = ScheduledSync.objects.get()

    assert admin_client.post(f"{BASE}{schedule.pk}/pause/").status_code == 302
    assert not PeriodicTask.objects.get(pk=schedule.periodic_task_id).enabled
    listing = admin_client.get(BASE).content.decode()
    assert "Paused" in listing and "Resume" in listing

    assert admin_client.post(f"{BASE}{schedule.pk}/resume/").status_code == 302
    assert PeriodicTask.objects.get(pk=schedule.periodic_task_id).enabled

    confirm = admin_client.get(f"{BASE}{schedule.pk}/delete/")
    assert "Delete scheduled sync Weeknights?" in confirm.content.decode()
    assert admin_client.post(f"{BASE}{schedule.pk}/delete/").status_code == 302
    assert not ScheduledSync.objects.exists()
    assert not PeriodicTask.objects.filter(task="watch.scheduled_sync").exists()

    actions = list(
        AuditEntry.objects.filter(action__startswith="scheduledSync")
        .order_by("id")
        .values_list("action", "actor_upn")
    )
    assert actions == [
        ("scheduledSync.create", ADMIN),
        ("scheduledSync.pause", ADMIN),
        ("scheduledSync.resume", ADMIN),
        ("scheduledSync.delete", ADMIN),
    ]
    deleted = AuditEntry.objects.get(action="scheduledSync.delete")
    assert deleted.target_name == "Weeknights" and deleted.after["when"] == "every 30 minutes"


def test_the_list_shows_the_last_run_with_each_connector_s_outcome(
    admin_client: Client, connectors: list[ExchangeConnector]
) -> None:
    admin_client.post(f"{BASE}new/", form(connectors))
    schedule = ScheduledSync.objects.get()
    ScheduleRun.objects.create(
        schedule=schedule,
        task_id="t-1",
        started_at=timezone.now(),
        outcome=ScheduleRunOutcome.NOT_LANDED,
        results=[
            {"id": connectors[0].id, "name": "EXCH-A", "progress": "synced", "message": ""},
            {"id": connectors[1].id, "name": "EXCH-B", "progress": "not_seen", "message": ""},
        ],
    )

    listing = admin_client.get(BASE).content.decode()

    assert "Not seen to land" in listing
    assert "EXCH-A: Synced" in listing and "EXCH-B: No sync seen" in listing


@pytest.mark.parametrize("who", ["operator_client", "reader_client"])
def test_operators_and_readers_see_the_schedules_but_cannot_change_them(
    request: pytest.FixtureRequest,
    admin_client: Client,
    connectors: list[ExchangeConnector],
    who: str,
) -> None:
    admin_client.post(f"{BASE}new/", form(connectors))
    schedule = ScheduledSync.objects.get()
    client: Client = request.getfixturevalue(who)

    listing = client.get(BASE)
    assert listing.status_code == 200 and "Weeknights" in listing.content.decode()
    assert "New scheduled sync" not in listing.content.decode()
    for url in ("new/", f"{schedule.pk}/edit/", f"{schedule.pk}/pause/", f"{schedule.pk}/delete/"):
        assert client.post(f"{BASE}{url}", form(connectors, name="Mine")).status_code == 403
    schedule.refresh_from_db()
    assert not schedule.paused and ScheduledSync.objects.count() == 1


def test_another_tenant_s_schedule_is_not_found_here(
    admin_client: Client, connectors: list[ExchangeConnector]
) -> None:
    admin_client.post(f"{BASE}new/", form(connectors))
    schedule = ScheduledSync.objects.get()
    ScheduledSync.objects.filter(pk=schedule.pk).update(tenant_id="another-tenant")

    assert admin_client.post(f"{BASE}{schedule.pk}/pause/").status_code == 404
    assert f'id="schedule-{schedule.pk}"' not in admin_client.get(BASE).content.decode()

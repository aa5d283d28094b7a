"""An Admin schedules a sync in the browser: the form starts in the browser's time zone, a bad
cron expression is shown on its field with what was typed kept, then the schedule is listed with
its next run; on a laptop and on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django_celery_beat.models import PeriodicTask
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN
from tests.e2e.conftest import screenshot
from tests.e2e.test_layout import SIZES, document_fits, on_screen_and_clickable
from tests.sandbox.factories import exchange_connector
from watch.models import ScheduledSync

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCHEDULES = f"/t/{settings.ENTRA_TENANT_ID}/watch/schedules/"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """The admin's browser is in Berlin: the form offers that time zone."""
    return {**browser_context_args, "timezone_id": "Europe/Berlin"}


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_an_admin_creates_a_scheduled_sync(
    sign_in_as: Callable[..., Page], page: Page, size: str
) -> None:
    picked, _other = exchange_connector(), exchange_connector()
    page.set_viewport_size(SIZES[size])
    sign_in_as(ADMIN, path=SCHEDULES)
    expect(page.get_by_test_id("schedules")).to_contain_text("No scheduled sync")

    page.get_by_role("link", name="New scheduled sync").first.click()
    form = page.get_by_test_id("schedule-form")
    expect(page.get_by_role("textbox", name="Time zone")).to_have_value("Europe/Berlin")
    page.get_by_role("textbox", name="Name").fill("Nightly full sync")
    page.get_by_label("Full sync").check()
    page.get_by_label("The connectors picked below").check()
    page.get_by_label(picked.server_name).check()
    page.get_by_label("On a cron expression").check()
    page.get_by_role("textbox", name="Cron expression").fill("30 25 * * *")
    page.get_by_label("Maintenance window from").fill("08:00")
    page.get_by_label("Maintenance window until").fill("18:00")
    page.get_by_label("Sat").check()
    create = form.get_by_role("button", name="Create")
    on_screen_and_clickable(page, create)
    create.click()

    # The bad hour is named on its field; everything typed is still there; nothing scheduled.
    expect(form).to_contain_text("Hour '25' is not valid")
    expect(page.get_by_role("textbox", name="Cron expression")).to_have_value("30 25 * * *")
    expect(page.get_by_role("textbox", name="Name")).to_have_value("Nightly full sync")
    expect(page.get_by_label(picked.server_name)).to_be_checked()
    expect(page.get_by_label("Sat")).to_be_checked()
    expect(page.get_by_role("textbox", name="Time zone")).to_have_value("Europe/Berlin")
    assert not ScheduledSync.objects.exists()
    document_fits(page)

    page.get_by_role("textbox", name="Cron expression").fill("30 2 * * *")
    form.get_by_role("button", name="Create").click()

    table = page.get_by_test_id("schedules")
    expect(page.locator("#toasts")).to_contain_text("Scheduled sync 'Nightly full sync' created.")
    expect(table).to_contain_text("Nightly full sync")
    expect(table).to_contain_text(picked.server_name)
    expect(table).to_contain_text("cron 30 2 * * * (Europe/Berlin)")
    expect(table).to_contain_text("skips 08:00–18:00 Europe/Berlin on Sat")
    expect(table).to_contain_text("none yet")
    # The next run, as beat will send it, in the schedule's own time zone: 02:30 in Berlin.
    expect(table.get_by_test_id("next-run")).to_contain_text(
        re.compile(r"\d{4}-\d\d-\d\d 02:30 CES?T")
    )
    schedule = ScheduledSync.objects.get()
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert str(task.crontab.timezone) == "Europe/Berlin" and task.enabled
    document_fits(page)
    screenshot(page, f"scheduled-syncs-{size}")

    # The toast sits over the foot of a phone's screen for its 8 seconds: then Pause is free.
    expect(page.locator("#toasts .toast")).to_have_count(0, timeout=15_000)
    pause = table.get_by_role("button", name="Pause")
    on_screen_and_clickable(page, pause)
    pause.click()
    expect(table).to_contain_text("Paused")
    expect(table.get_by_role("button", name="Resume")).to_be_visible()

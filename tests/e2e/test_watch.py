"""An Admin turns the watch on in the browser: the watch's own sign-in, consent, then the page
says whom it acts as; it fits a phone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN
from tests.e2e.conftest import screenshot
from tests.e2e.test_layout import SIZES, document_fits
from watch.models import RunStatus, TaskRun, WorkerHeartbeat

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def engine_rows() -> None:
    """What a worker and beat leave behind: a heartbeat, a schedule, a run of each outcome."""
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        hostname="worker@dashboard-01", pid=4242, started_at=now, last_beat_at=now
    )
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.create(
        name="watch heartbeat", task="watch.heartbeat", interval=every_minute, last_run_at=now
    )
    for n, (status, result, error) in enumerate(
        [
            (RunStatus.SUCCEEDED, {"worker": "worker@dashboard-01", "pid": 4242}, ""),
            (RunStatus.FAILED, {}, "OperationalError: could not connect to server"),
        ]
    ):
        TaskRun.objects.create(
            task_id=f"run-{n}",
            task_name="watch.heartbeat",
            schedule="watch heartbeat",
            worker="worker@dashboard-01",
            status=status,
            started_at=now - timedelta(minutes=n),
            finished_at=now - timedelta(minutes=n),
            result=result,
            error=error,
        )


def test_an_admin_turns_the_watch_on_by_signing_in_for_it(
    sign_in_as: Callable[..., Page], page: Page, engine_rows: None, settings: Any
) -> None:
    sign_in_as(ADMIN, path="/watch/")
    expect(page).to_have_title("Watch · Connector Dashboard")
    expect(page.get_by_test_id("watch-status")).to_contain_text("nobody has signed in")

    page.get_by_role("button", name="Turn the watch on: sign in for it").click()
    page.get_by_role("button", name=ADMIN).click()
    # The watch asks for more than the pages' sign-in did: the sandbox asks for consent.
    page.get_by_role("button", name="Accept").click()

    expect(page.get_by_test_id("watch-status")).to_contain_text("Active")
    expect(page.get_by_test_id("watch-acting-as")).to_contain_text(ADMIN)
    expect(page.locator("#toasts")).to_contain_text(f"The watch is on, acting as {ADMIN}.")
    expect(page.get_by_test_id("watch-workers")).to_contain_text("worker@dashboard-01")
    expect(page.get_by_test_id("watch-runs")).to_contain_text("could not connect to server")
    screenshot(page, "watch-page")
    # The health sections refresh in place: a worker that starts now shows up by itself.
    settings.WATCH_PAGE_REFRESH_SECONDS = 1
    page.reload()
    WorkerHeartbeat.objects.create(
        hostname="worker@dashboard-02", started_at=timezone.now(), last_beat_at=timezone.now()
    )
    expect(page.get_by_test_id("watch-workers")).to_contain_text("worker@dashboard-02")
    page.set_viewport_size(SIZES["phone"])
    document_fits(page)

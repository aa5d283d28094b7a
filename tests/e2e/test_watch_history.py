"""A connector's history in the browser: the tenant's objects with their 7-day bars, one
object's timelines and changes; both fit a laptop and a phone, with no CSP violation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.conftest import READER
from tests.e2e.conftest import screenshot
from tests.e2e.test_layout import SIZES, document_fits
from watch.models import Sweep
from watch.observations import ObjectKind, Observation, SweepResult, sweep_observed

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
HOME = settings.ENTRA_TENANT_ID


@pytest.fixture
def outage() -> None:
    """Twelve days of sweeps: one connector down for a day, a group at risk for six hours."""
    now = timezone.now()
    plan = [
        (now - timedelta(days=12), "healthy", "ok"),
        (now - timedelta(days=4), "unhealthy", "ok"),
        (now - timedelta(days=3), "healthy", "at_risk"),
        (now - timedelta(days=3) + timedelta(hours=6), "healthy", "ok"),
    ]
    for index, (at, exchange, group) in enumerate(plan):
        result = SweepResult(
            tenant_id=HOME,
            sweep_key=f"{HOME}@test-{index}",
            observed_at=at,
            observations=[
                Observation(HOME, ObjectKind.EXCHANGE_CONNECTOR, "ex-1", "EXCH-01", exchange),
                Observation(HOME, ObjectKind.CONNECTOR_GROUP, "grp-1", "Europe group", group),
            ],
            read_kinds=frozenset({ObjectKind.EXCHANGE_CONNECTOR, ObjectKind.CONNECTOR_GROUP}),
        )
        sweep_observed.send(sender=Sweep, result=result)


@pytest.mark.parametrize("size", list(SIZES))
def test_history_pages_fit_and_draw_without_csp_violations(
    sign_in_as: Callable[..., Page], page: Page, outage: None, size: str
) -> None:
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    page.set_viewport_size(SIZES[size])
    sign_in_as(READER, path=f"/t/{HOME}/watch/history/")
    expect(page.get_by_role("heading", name="History of")).to_be_visible()
    row = page.locator('tr[data-object="ex-1"]')
    expect(row.get_by_test_id("uptime-7")).to_have_text("85.71 %")  # down one day of seven
    expect(row.get_by_test_id("timeline")).to_be_visible()
    expect(row.locator("rect.tl-bad")).to_have_count(1)
    document_fits(page)
    screenshot(page, f"watch-history-{size}")

    row.get_by_role("link", name="EXCH-01").click()
    expect(page.get_by_role("heading", name="EXCH-01")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_have_count(2)
    expect(page.get_by_test_id("changes").locator("tbody tr")).to_have_count(3)
    box = page.get_by_test_id("timeline").first.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] >= 15
    document_fits(page)
    assert not [e for e in errors if "Content Security Policy" in e], errors

"""Alerts in the browser: the list of every tenant's incidents, an incident's page, acknowledge
and snooze in place (htmx), a bad snooze time shown at its field; at laptop and phone sizes."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN, OPERATOR
from tests.e2e.conftest import screenshot
from tests.e2e.test_layout import SIZES, document_fits
from tests.watch.alerting import exchange, group, sweep
from watch import incidents
from watch.models import Incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG_GROUP = "Europe West Primary Datacenter Application Proxy Connector Group " * 2


@pytest.fixture
def outage() -> Incident:
    seen = [group("down", "g1", LONG_GROUP), exchange(status="disconnected")]
    incidents.evaluate(sweep(1, *seen))
    incidents.evaluate(sweep(2, *seen))
    return Incident.objects.get(rule="group_below_two")


@pytest.mark.parametrize("size", list(SIZES))
def test_an_operator_finds_an_incident_and_acknowledges_it(
    sign_in_as: Callable[..., Page], page: Page, outage: Incident, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    sign_in_as(OPERATOR, path="/")
    expect(page.get_by_test_id("alerts-card")).to_contain_text("its applications are down")

    page.get_by_test_id("alerts-card").get_by_role("link", name="Open incidents").click()
    expect(page.get_by_test_id("count")).to_have_text("2 incidents")
    document_fits(page)
    screenshot(page, f"alerts-list-{size}")
    page.get_by_label("Rule").select_option("group_below_two")
    expect(page).to_have_url(re.compile(r"rule=group_below_two"))
    expect(page.get_by_test_id("count")).to_have_text("1 incident")

    page.get_by_role("link", name="its applications are down").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("Opened after 2 sweeps")
    document_fits(page)

    page.get_by_label("Snooze until").fill("2020-01-01T10:00")
    page.get_by_role("button", name="Snooze").click()
    expect(page.get_by_text("Pick a time in the future.")).to_be_visible()
    expect(page.get_by_label("Snooze until")).to_have_value("2020-01-01T10:00")

    page.get_by_test_id("incident-actions").get_by_label("Note").first.fill("Restarting the VM")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id("incident-state")).to_contain_text(f"acknowledged by {OPERATOR}")
    expect(page.get_by_test_id("timeline")).to_contain_text("Restarting the VM")
    document_fits(page)
    screenshot(page, f"incident-{size}")
    outage.refresh_from_db()
    assert outage.acknowledged_by == OPERATOR


@pytest.mark.parametrize("size", list(SIZES))
def test_an_admin_sets_a_rule_override(
    sign_in_as: Callable[..., Page], page: Page, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    sign_in_as(ADMIN, path="/watch/alerts/rules/")
    expect(page.get_by_test_id("rules")).to_contain_text("Connector group below two active")
    document_fits(page)

    page.locator("#id_rule").select_option("app_proxy_inactive")
    page.get_by_label("Consecutive observations").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Ensure this value is greater than or equal to 1.")).to_be_visible()
    expect(page.get_by_label("Consecutive observations")).to_have_value("0")

    page.get_by_label("Consecutive observations").fill("3")
    page.get_by_label("Severity").select_option("critical")
    page.get_by_role("button", name="Save").click()
    row = page.locator('tr[data-rule="app_proxy_inactive"]')
    expect(row).to_contain_text("3")
    expect(row).to_contain_text("Critical")
    document_fits(page)
    screenshot(page, f"alert-rules-{size}")

"""The overview of a technician with several tenants, in a real browser: every tenant at a
glance, the refresh in steps (progress, failures, Stop), at a laptop's and a phone's size."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sandbox import estate, faults
from tenants.models import ManagedTenant, TenantSnapshot
from tests.e2e.conftest import screenshot
from tests.e2e.test_layout import SIZES, document_fits

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ADMIN = "admin@sandbox.example"
# Tenants added by hand that the sandbox does not know (each refresh of them fails), last in
# tenant id order.
GUESTS = 3


@pytest.fixture
def technician(sign_in_as, page: Page, settings) -> Page:
    settings.TENANT_REFRESH_CHUNK = 2
    settings.TENANT_REFRESH_CONCURRENCY = 1
    estate.estate_seed(tenants=3, exchange=2, app_proxy=1, groups=1, audit_events=1)
    sign_in_as(ADMIN, path="/tenants/")
    page.get_by_test_id("discover").click()
    expect(page.get_by_test_id("tenants")).to_contain_text("Fabrikam")
    for number in range(GUESTS):
        ManagedTenant.objects.create(
            tenant_id=f"ffffffff-ffff-4fff-8fff-{number:012d}", display_name=f"Guest {number}"
        )
    return page


@pytest.mark.parametrize("size", list(SIZES))
def test_the_overview_is_every_tenant_and_refreshes_step_by_step(
    technician: Page, size: str
) -> None:
    page = technician
    page.set_viewport_size(SIZES[size])
    steps = []
    page.on("request", lambda r: steps.append(r) if "/health/refresh/" in r.url else None)
    page.goto("/")
    section = page.get_by_test_id("all-tenants")
    expect(section.locator("tr[data-tenant]")).to_have_count(4 + GUESTS)
    expect(section.get_by_text("Not checked yet")).to_have_count(4 + GUESTS)
    document_fits(page)
    section.get_by_test_id("refresh").click()
    progress = page.get_by_test_id("refresh-progress")
    expect(progress).to_have_text("Refreshed 7 of 7 tenants; 5 failed.", timeout=20_000)
    assert len(steps) == 4  # 2 tenants a step: the page asked for each next step itself
    failures = page.get_by_test_id("refresh-failure")
    expect(failures).to_have_count(2 + GUESTS)  # Northwind, Woodgrove and the guests
    expect(failures.filter(has_text="Northwind Traders")).to_contain_text("AADSTS65001")
    # The list reloaded with the new snapshots.
    expect(section.get_by_text("Not checked yet")).to_have_count(0)
    expect(section.get_by_test_id("tenant-error").first).to_be_visible()
    assert TenantSnapshot.objects.count() == 4 + GUESTS
    document_fits(page)
    screenshot(page, f"overview-all-tenants-{size}")
    # Into a tenant from its row.
    section.get_by_role("link", name="Fabrikam").click()
    expect(page.get_by_test_id("current-tenant")).to_have_text("Fabrikam")


def test_stop_ends_the_refresh_and_continue_resumes_it(technician: Page) -> None:
    page = technician
    faults.install({"path": "*", "fault": "delay", "seconds": 0.7})  # each step takes a while
    steps = []
    page.on("request", lambda r: steps.append(r) if "/health/refresh/" in r.url else None)
    page.goto("/")
    page.get_by_test_id("refresh").click()
    expect(page.get_by_test_id("refresh-progress")).to_contain_text(
        "Refreshing… 2 of 7", timeout=20_000
    )
    page.get_by_test_id("refresh-stop").click()
    expect(page.get_by_test_id("refresh-progress")).to_contain_text("Stopped: refreshed")
    asked = len(steps)
    page.wait_for_timeout(2_500)  # no further step is asked for
    assert len(steps) == asked
    assert TenantSnapshot.objects.count() < 4 + GUESTS
    faults.clear()
    page.get_by_test_id("refresh-continue").click()
    expect(page.get_by_test_id("refresh-progress")).to_contain_text(
        "Refreshed 7 of 7 tenants", timeout=20_000
    )
    assert TenantSnapshot.objects.count() == 4 + GUESTS

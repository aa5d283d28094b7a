"""Many tenants in a real browser: the switcher, two tabs on two tenants, old URLs, refusals."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from sandbox import estate
from sandbox.models import ExchangeConnector
from sandbox.scope import tenant_scope

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ADMIN = "admin@sandbox.example"
HOME = settings.ENTRA_TENANT_ID
FABRIKAM, NORTHWIND, WOODGROVE = (estate.customer_id(index) for index in range(3))


@pytest.fixture
def technician(sign_in_as, page: Page) -> Page:
    estate.estate_seed(tenants=3, exchange=2, app_proxy=1, groups=1, audit_events=1)
    sign_in_as(ADMIN, path="/tenants/")
    page.get_by_test_id("discover").click()
    expect(page.get_by_test_id("tenants")).to_contain_text("Fabrikam")
    return page


def ids_in(tenant: str) -> set[str]:
    with tenant_scope(tenant):
        return set(ExchangeConnector.objects.values_list("id", flat=True))


def names_in(tenant: str) -> list[str]:
    with tenant_scope(tenant):
        return list(ExchangeConnector.objects.values_list("server_name", flat=True))


def test_switch_tenants_from_the_header(technician: Page, base_url: str) -> None:
    page = technician
    page.goto(f"{base_url}/exchange-connectors/")
    expect(page).to_have_url(f"{base_url}/t/{HOME}/exchange-connectors/")  # old URL redirected
    switcher = page.get_by_test_id("tenant-switcher")
    switcher.get_by_label("Tenant").fill("fabri")  # suggestions arrive as one types
    expect(page.locator("#tenant-options option")).to_have_count(1)
    suggestion = page.locator("#tenant-options option").get_attribute("value")
    assert suggestion == f"Fabrikam · fabrikam.example · {FABRIKAM}"
    switcher.get_by_label("Tenant").fill(suggestion)
    switcher.get_by_role("button", name="Switch").click()
    expect(page).to_have_url(f"{base_url}/t/{FABRIKAM}/exchange-connectors/")
    expect(page.get_by_test_id("current-tenant")).to_have_text("Fabrikam")
    for name in names_in(FABRIKAM):
        expect(page.get_by_text(name).first).to_be_visible()
    # The navigation stays in the tenant.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page).to_have_url(re.compile(rf"/t/{FABRIKAM}/audit/"))


def test_two_tabs_on_two_tenants(technician: Page, base_url: str) -> None:
    home_tab = technician
    home_tab.goto(f"{base_url}/t/{HOME}/exchange-connectors/")
    other_tab = home_tab.context.new_page()
    other_tab.goto(f"{base_url}/t/{FABRIKAM}/exchange-connectors/")
    home_tab.reload()  # the other tab changed nothing for this one
    expect(home_tab.get_by_test_id("current-tenant")).to_have_text("Home tenant")
    expect(other_tab.get_by_test_id("current-tenant")).to_have_text("Fabrikam")
    home_rows = home_tab.get_by_test_id("row")
    other_rows = other_tab.get_by_test_id("row")
    expect(home_rows).to_have_count(len(names_in(HOME)))
    expect(other_rows).to_have_count(len(names_in(FABRIKAM)))
    # Each tab's rows are its own tenant's connectors (the seed names them alike: compare ids).
    for tab, tenant in ((home_tab, HOME), (other_tab, FABRIKAM)):
        for connector_id in ids_in(tenant):
            expect(
                tab.locator(f'a[href="/t/{tenant}/exchange-connectors/{connector_id}/"]').first
            ).to_be_attached()
    assert not ids_in(FABRIKAM) & ids_in(HOME)
    other_tab.get_by_role("link", name=names_in(FABRIKAM)[0]).first.click()
    expect(other_tab).to_have_url(
        re.compile(rf"/t/{FABRIKAM}/exchange-connectors/[0-9a-f-]{{36}}/")
    )


def test_refusals_are_clear_pages(technician: Page, base_url: str) -> None:
    page = technician
    page.goto(f"{base_url}/t/{NORTHWIND}/exchange-connectors/")
    expect(page.get_by_test_id("tenant-refusal")).to_contain_text("not consented in Northwind")
    link = page.get_by_test_id("admin-consent-link")
    expect(link).to_have_attribute("href", re.compile(rf"/{NORTHWIND}/adminconsent\?"))
    page.goto(f"{base_url}/t/{WOODGROVE}/exchange-connectors/")
    expect(page.get_by_test_id("tenant-refusal")).to_contain_text("no access to Woodgrove Bank")

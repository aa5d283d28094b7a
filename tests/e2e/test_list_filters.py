"""A list's bad filter under htmx: the field error shows in place, and the page stays."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN, consent_to
from tests.sandbox import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("path", ["/exchange-connectors/", "/app-proxy/connectors/"])
def test_a_bad_filter_shows_its_field_error_in_place(sign_in_as, page: Page, path: str) -> None:
    consent_to(ADMIN, ["https://graph.microsoft.com/Directory.ReadWrite.All"])
    factories.exchange_connector(server_name="EXCH-MBX01.contoso.local")
    sign_in_as(ADMIN, path)
    status = page.locator("form.filters select[name=status]")
    # A value no dropdown offers (as a stale bookmark or a hand-edited URL would send).
    status.evaluate(
        """select => {
            select.add(new Option("Bogus", "bogus"));
            select.value = "bogus";
            select.dispatchEvent(new Event("change", {bubbles: true}));
        }"""
    )

    error = page.locator("#results [role=alert]")
    expect(error).to_contain_text("These filters are not valid")
    expect(error).to_contain_text("status: Select a valid choice. bogus is not one of")
    # Swapped in place: the page around the results is still there, and the URL says why.
    expect(page.locator("form.filters")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    assert "status=bogus" in page.url


@pytest.mark.parametrize(
    ("path", "column", "filter_name", "value"),
    [
        ("/exchange-connectors/", "Last sync", "type", "hosted"),
        ("/app-proxy/connectors/", "Version", "status", "active"),
    ],
)
def test_a_sort_chosen_by_its_header_survives_a_filter_change(
    sign_in_as, page: Page, path: str, column: str, filter_name: str, value: str
) -> None:
    """Issue 13, item 6: sort by a column header, then pick a filter: still sorted."""
    consent_to(ADMIN, ["https://graph.microsoft.com/Directory.ReadWrite.All"])
    factories.exchange_connector(
        server_name="EXCH-MBX01.contoso.local", exchange_connector_type="hosted"
    )
    factories.app_proxy_connector(machine_name="APPPROXY-A.contoso.local")
    sign_in_as(ADMIN, path)
    page.locator("#results thead").get_by_role("link", name=column).click()
    expect(page.locator("#results thead th[aria-sort]")).to_contain_text(column)
    page.locator(f"form.filters select[name={filter_name}]").select_option(value)
    expect(page).to_have_url(re.compile(rf"{filter_name}={value}"))
    assert "sort=" in page.url, page.url
    expect(page.locator("#results thead th[aria-sort]")).to_contain_text(column)

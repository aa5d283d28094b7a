"""The App Proxy pages in a real browser: consent, edit, move between groups, groups; per role."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sandbox.models import AppProxyConnector, ConnectorGroup
from tests.conftest import ADMIN, READER, consent_to
from tests.e2e.conftest import screenshot
from tests.sandbox import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DIRECTORY = ["https://graph.microsoft.com/Directory.ReadWrite.All"]


@pytest.fixture
def tenant() -> dict[str, object]:
    default = factories.connector_group(name="Default", is_default=True)
    west = factories.connector_group(name="West Europe", region="eur")
    return {
        "default": default,
        "west": west,
        "a": factories.app_proxy_connector(machine_name="APPPROXY-A.contoso.local", group=default),
        "b": factories.app_proxy_connector(machine_name="APPPROXY-B.contoso.local", group=default),
        "c": factories.app_proxy_connector(machine_name="APPPROXY-C.contoso.local", group=default),
        "w": factories.app_proxy_connector(
            machine_name="APPPROXY-W.contoso.local", group=west, status="inactive"
        ),
    }


def group_card(page: Page, name: str):
    return page.locator(f'section[data-group="{name}"]')


def test_admin_consents_on_first_visit(sign_in_as, page: Page, tenant) -> None:
    sign_in_as(ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="App Proxy").click()
    # Back at the sandbox's sign-in, asked for the new permission.
    page.get_by_role("button", name=ADMIN).click()
    expect(page.get_by_role("heading", name="Permissions requested")).to_be_visible()
    expect(page.get_by_test_id("consent-new")).to_contain_text("Directory.ReadWrite.All")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("heading", name="App Proxy connectors")).to_be_visible()
    expect(page.get_by_test_id("row")).to_have_count(4)


def test_admin_edits_a_connectors_status(sign_in_as, page: Page, tenant) -> None:
    consent_to(ADMIN, DIRECTORY)
    sign_in_as(ADMIN, path="/app-proxy/connectors/")
    page.locator('tr[data-connector="APPPROXY-B.contoso.local"]').get_by_role(
        "link", name="Edit"
    ).click()
    page.get_by_label("Status").select_option("inactive")
    page.get_by_role("button", name="Review changes").click()
    review = page.get_by_test_id("review")
    expect(review.get_by_test_id("change")).to_have_count(1)
    expect(review).to_contain_text("overriding values the connector reports")
    review.get_by_label("Override the values the connector reports itself").check()
    review.get_by_role("button", name="Save").click()
    expect(page.locator(".toast")).to_contain_text("Saved APPPROXY-B.contoso.local: Status.")
    expect(page.get_by_test_id("status")).to_have_text("Inactive")
    assert AppProxyConnector.objects.get(machine_name="APPPROXY-B.contoso.local").status == (
        "inactive"
    )


def test_admin_moves_a_connector_and_both_groups_counts_change(
    sign_in_as, page: Page, tenant
) -> None:
    consent_to(ADMIN, DIRECTORY)
    sign_in_as(ADMIN, path="/app-proxy/connectors/?view=groups")
    expect(group_card(page, "Default").get_by_test_id("group-counts")).to_have_text(
        "3 active · 0 inactive"
    )
    expect(group_card(page, "West Europe").get_by_test_id("group-warning")).to_be_visible()
    screenshot(page, "app-proxy-grouped")
    page.evaluate("window.__noReload = true")

    group_card(page, "Default").locator(
        'tr[data-connector="APPPROXY-A.contoso.local"]'
    ).get_by_role("link", name="Move").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Move APPPROXY-A.contoso.local to another group?")
    dialog.get_by_label("Move to group").select_option(label="West Europe (Europe)")
    dialog.get_by_role("button", name="Move").click()
    # Default has no region, West Europe serves Europe: the dialog asks before moving.
    expect(dialog.get_by_test_id("region-warning")).to_contain_text("West Europe serves Europe")
    screenshot(page, "app-proxy-move-dialog")
    dialog.get_by_label("Yes, move it to another region").check()
    dialog.get_by_role("button", name="Move").click()

    expect(dialog).to_be_hidden()
    expect(group_card(page, "Default").get_by_test_id("group-counts")).to_have_text(
        "2 active · 0 inactive"
    )
    expect(group_card(page, "West Europe").get_by_test_id("group-counts")).to_have_text(
        "1 active · 1 inactive"
    )
    expect(group_card(page, "West Europe")).to_contain_text("APPPROXY-A.contoso.local")
    expect(page.locator(".toast")).to_contain_text("Moved APPPROXY-A.contoso.local to West Europe")
    assert page.evaluate("window.__noReload") is True  # updated in place


def test_admin_creates_and_deletes_an_empty_group(sign_in_as, page: Page, tenant) -> None:
    consent_to(ADMIN, DIRECTORY)
    sign_in_as(ADMIN, path="/app-proxy/groups/")
    page.get_by_role("link", name="New group").click()
    page.get_by_label("Name").fill("Asia Pacific")
    page.get_by_label("Region").select_option("asia")
    page.get_by_role("button", name="Create").click()
    row = page.locator('tr[data-group="Asia Pacific"]')
    expect(row).to_contain_text("Asia")
    expect(row.get_by_test_id("member-count")).to_have_text("0")
    expect(page.locator('tr[data-group="Default"]')).to_contain_text("Cannot delete")

    row.get_by_role("link", name="Delete").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_contain_text("Delete connector group Asia Pacific?")
    dialog.get_by_role("button", name="Delete Asia Pacific").click()
    expect(page.locator(".toast")).to_contain_text("Deleted connector group Asia Pacific")
    expect(page.locator('tr[data-group="Asia Pacific"]')).to_have_count(0)
    assert not ConnectorGroup.objects.filter(name="Asia Pacific").exists()


def test_reader_sees_no_controls(sign_in_as, page: Page, tenant) -> None:
    consent_to(READER, DIRECTORY)
    sign_in_as(READER, path="/app-proxy/connectors/?view=groups")
    expect(page.get_by_test_id("row")).to_have_count(4)
    expect(page.get_by_role("link", name="Move")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    page.goto("/app-proxy/groups/")
    expect(page.get_by_test_id("group")).to_have_count(2)
    expect(page.get_by_role("link", name="New group")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete")).to_have_count(0)

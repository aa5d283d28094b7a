"""The Exchange connector pages in a real browser, per role."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from sandbox.models import ExchangeConnector
from tests.conftest import home_tenant_path
from tests.e2e.conftest import row_action, screenshot
from tests.sandbox import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def connectors(settings) -> list[ExchangeConnector]:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 2
    now = timezone.now()
    return [
        factories.exchange_connector(
            server_name="EXCH-MBX01.contoso.local",
            connector_server_name="ICS-01.contoso.local",
            status="connected",
            last_sync=now - timedelta(hours=3),
        ),
        factories.exchange_connector(
            server_name="EXCH-MBX02.contoso.local",
            connector_server_name="ICS-02.contoso.local",
            status="disconnected",
            last_sync=now - timedelta(days=2),
        ),
        factories.exchange_connector(
            server_name="EXCH-MBX03.contoso.local",
            connector_server_name="ICS-03.contoso.local",
            status="connectionPending",
            last_sync=now - timedelta(days=6),
            exchange_connector_type="hosted",
        ),
    ]


def row(page: Page, server_name: str):
    return page.locator(f'tr[data-connector="{server_name}"]')


def review_inline_status_change(page: Page, server_name: str, status: str):
    """Open the row's inline editor, pick `status`, and get to the review step."""
    row_action(row(page, server_name), "Edit").click()
    editor = page.get_by_test_id("row-editing")
    editor.get_by_label("Status").select_option(status)
    editor.get_by_role("button", name="Review changes").click()
    return page.get_by_test_id("review")


def test_admin_edits_inline_syncs_and_finds_the_change_in_the_audit_log(
    sign_in_as, page: Page, connectors
) -> None:
    sign_in_as("admin@sandbox.example", path="/exchange-connectors/")
    expect(page.get_by_test_id("row")).to_have_count(3)
    screenshot(page, "exchange-list")
    page.evaluate("window.__noReload = true")

    review = review_inline_status_change(page, "EXCH-MBX02.contoso.local", "connected")
    expect(review.get_by_test_id("change")).to_have_count(1)
    expect(review).to_contain_text("disconnected")
    expect(review).to_contain_text("overriding values the connector reports")
    review.get_by_label("Reason for the change").fill("Connector service restarted")
    screenshot(page, "exchange-edit-review")
    review.get_by_label("Override the values the connector reports itself").check()
    review.get_by_role("button", name="Save").click()

    updated = row(page, "EXCH-MBX02.contoso.local")
    expect(updated.get_by_test_id("status")).to_have_text("Connected")
    expect(page.locator(".toast")).to_contain_text("Saved EXCH-MBX02.contoso.local")
    assert page.evaluate("window.__noReload") is True  # swapped in place, no page load

    updated.get_by_role("button", name="Quick sync").click()
    expect(updated.get_by_test_id("sync-state")).to_contain_text("Sync requested")
    expect(row(page, "EXCH-MBX02.contoso.local").get_by_test_id("sync-state")).to_contain_text(
        "Synced", timeout=15_000
    )
    assert page.evaluate("window.__noReload") is True

    page.goto("/audit/?target_type=exchangeConnector")
    page.get_by_role("link", name="Edit Exchange connector").first.click()
    expect(page.locator("main")).to_contain_text("disconnected")
    expect(page.locator("main")).to_contain_text("connected")
    expect(page.locator("main")).to_contain_text("Connector service restarted")
    screenshot(page, "audit-entry")


def test_reader_sees_no_edit_or_sync_controls(sign_in_as, page: Page, connectors) -> None:
    sign_in_as("reader@sandbox.example", path="/exchange-connectors/")
    expect(page.get_by_test_id("row")).to_have_count(3)
    expect(page.get_by_role("button", name="Quick sync")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit", include_hidden=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Sync selected")).to_have_count(0)


def test_operator_syncs_but_may_not_edit(sign_in_as, page: Page, connectors) -> None:
    sign_in_as("operator@sandbox.example", path="/exchange-connectors/")
    target = row(page, "EXCH-MBX01.contoso.local")
    expect(target.get_by_role("link", name="Edit", include_hidden=True)).to_have_count(0)
    target.get_by_role("button", name="Quick sync").click()
    expect(row(page, "EXCH-MBX01.contoso.local").get_by_test_id("sync-state")).to_contain_text(
        "Synced", timeout=15_000
    )
    response = page.goto(f"/exchange-connectors/{connectors[0].id}/edit/")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("needs the Admin role")


def test_full_sync_confirms_in_a_dialog(sign_in_as, page: Page, connectors) -> None:
    sign_in_as("operator@sandbox.example", path="/exchange-connectors/")
    row_action(row(page, "EXCH-MBX03.contoso.local"), "Full sync").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Full sync of EXCH-MBX03.contoso.local?")
    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_be_hidden()
    row_action(row(page, "EXCH-MBX03.contoso.local"), "Full sync").click()
    dialog.get_by_role("button", name="Start full sync").click()
    expect(page.locator(".toast")).to_contain_text(
        "Full sync of EXCH-MBX03.contoso.local requested"
    )


def test_bulk_sync_marks_each_selected_row(sign_in_as, page: Page, connectors) -> None:
    sign_in_as("operator@sandbox.example", path="/exchange-connectors/")
    row(page, "EXCH-MBX01.contoso.local").get_by_role("checkbox").check()
    row(page, "EXCH-MBX03.contoso.local").get_by_role("checkbox").check()
    page.get_by_role("button", name="Sync selected").click()
    expect(row(page, "EXCH-MBX01.contoso.local").get_by_test_id("sync-state")).to_contain_text(
        "Sync"
    )
    expect(row(page, "EXCH-MBX03.contoso.local").get_by_test_id("sync-state")).to_contain_text(
        "Sync"
    )
    expect(row(page, "EXCH-MBX02.contoso.local").get_by_test_id("sync-state")).to_have_text("")
    expect(row(page, "EXCH-MBX03.contoso.local").get_by_test_id("sync-state")).to_contain_text(
        "Synced", timeout=15_000
    )


def test_filters_update_the_url_and_the_table(sign_in_as, page: Page, connectors) -> None:
    sign_in_as("reader@sandbox.example", path="/exchange-connectors/")
    page.get_by_label("Status").select_option("disconnected")
    expect(page.get_by_test_id("row")).to_have_count(1)
    expect(page).to_have_url(
        home_tenant_path("/exchange-connectors/?q=&status=disconnected&type=&health="),
        timeout=5_000,
    )
    page.reload()
    expect(page.get_by_test_id("row")).to_have_count(1)


def test_intunes_403_on_an_edit_reads_as_the_missing_permission_with_the_operation_id(
    sign_in_as, page: Page, connectors
) -> None:
    """Graph's real Intune 403 (a JSON wrapper in `message`) never reaches the admin raw."""
    sign_in_as("limited@sandbox.example", path="/exchange-connectors/")
    review = review_inline_status_change(page, "EXCH-MBX02.contoso.local", "connected")
    review.get_by_label("Override the values the connector reports itself").check()
    review.get_by_role("button", name="Save").click()

    toast = page.locator(".toast")
    expect(toast).to_contain_text("your account lacks DeviceManagementServiceConfig.ReadWrite.All")
    expect(toast).to_contain_text(re.compile(r"Operation ID: [0-9a-f-]{36}\."))
    screenshot(page, "exchange-edit-forbidden")
    for raw in ("_version", "CustomApiErrorPhrase", "Activity ID", "{"):
        expect(toast).not_to_contain_text(raw)
    # What the user typed stays on screen; Graph kept the old value.
    expect(page.get_by_test_id("review")).to_be_visible()
    assert ExchangeConnector.objects.get(pk=connectors[1].pk).status == "disconnected"

    # The full page says the same (no htmx: the edit page's own form).
    page.goto(f"/exchange-connectors/{connectors[1].id}/edit/")
    page.get_by_label("Status").select_option("connected")
    page.get_by_role("button", name="Review changes").click()
    page.get_by_label("Override the values the connector reports itself").check()
    page.get_by_role("button", name="Save").click()
    main = page.locator("main")
    expect(main).to_contain_text("your account lacks DeviceManagementServiceConfig.ReadWrite.All")
    expect(main).to_contain_text(re.compile(r"Operation ID: [0-9a-f-]{36}\."))
    expect(main).not_to_contain_text("_version")

"""The pages fit a laptop (1366×768) and a phone (390×844): no sideways scrolling of the document,
every row action on screen and clickable; long values cut short with the whole value on hover
(issue 13, items 2 and 3). Screenshots of each page at both sizes for the README."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from audit.models import Action, Outcome, Phase, TargetType
from audit.services import Actor, Target, audit_record
from sandbox.tenant import audit_event_create
from tests.conftest import ADMIN, consent_to
from tests.e2e.conftest import row_action, screenshot
from tests.sandbox import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DIRECTORY = ["https://graph.microsoft.com/Directory.ReadWrite.All"]
SIZES = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
LONG_HOST = "EXCH-MAILBOX-SERVER-WEST-EUROPE-PRIMARY-01.emea.corp.contoso-international.com"
LONG_ORG = "Contoso International Holdings (Europe, Middle East and Africa) " * 3


@pytest.fixture
def tenant() -> dict[str, Any]:
    now = timezone.now()
    exchange = [
        factories.exchange_connector(
            server_name=LONG_HOST,
            connector_server_name="INTUNE-CONNECTOR-HOST-WEST-EUROPE-01.emea.corp.contoso.com",
            status="connectionPending",
            last_sync=now - timedelta(minutes=3),
            primary_smtp_address="intune-exchange-connector-west-europe@emea.contoso.com",
            exchange_organization=LONG_ORG[:255].strip(),
            version="15.2.1118.7",
        ),
        factories.exchange_connector(
            server_name="EXCH-LON-02.contoso.local",
            connector_server_name="ICS-LON-02.contoso.local",
            status="disconnected",
            last_sync=now - timedelta(days=4),
        ),
        factories.exchange_connector(
            server_name="EXCH-NYC-03.contoso.local",
            status="connected",
            last_sync=now - timedelta(hours=5),
            exchange_connector_type="hosted",
        ),
    ]
    default = factories.connector_group(name="Default", is_default=True)
    europe = factories.connector_group(name="EU Web Apps — Frankfurt and Amsterdam", region="eur")
    for n, group in enumerate([default, default, europe]):
        factories.app_proxy_connector(
            machine_name=f"APPPROXY-CONNECTOR-{n:02d}.emea.corp.contoso-international.com",
            group=group,
        )
    actor = Actor(oid="a1", upn="megan.bowen@contoso.example", name="Megan Bowen", tenant_id="t1")
    for server in exchange:
        common = {
            "actor": actor,
            "action": Action.EXCHANGE_CONNECTOR_UPDATE,
            "target": Target(
                type=TargetType.EXCHANGE_CONNECTOR, id=server.id, name=server.server_name
            ),
            "correlation_id": uuid.uuid4(),
            "before": {"status": "connected", "exchangeOrganization": "Contoso"},
            "after": {"status": "disconnected", "exchangeOrganization": LONG_ORG[:200]},
            "reason": "Maintenance window agreed with the messaging team " * 2,
        }
        attempt = audit_record(phase=Phase.ATTEMPT, **common)
        audit_record(
            phase=Phase.OUTCOME,
            attempt=attempt,
            outcome=Outcome.SUCCEEDED,
            graph_status=204,
            graph_request_id=str(uuid.uuid4()),
            **common,
        )
    audit_event_create(
        category="Other",
        activity="Patch DeviceManagementExchangeConnector " + LONG_HOST,
        activity_type="Patch DeviceManagementExchangeConnector",
    )
    consent_to(ADMIN, DIRECTORY)
    return {"exchange": exchange}


def document_fits(page: Page) -> dict[str, int]:
    sizes = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth,"
        " client: document.documentElement.clientWidth})"
    )
    assert sizes["scroll"] <= sizes["client"], sizes
    return sizes


def on_screen_and_clickable(page: Page, control: Locator) -> None:
    """Inside the viewport without scrolling sideways, and the topmost element at its centre."""
    control.scroll_into_view_if_needed()
    box = control.bounding_box()
    assert box is not None
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width)
    assert page.evaluate("() => window.scrollX") == 0
    hit = control.evaluate(
        """el => { const r = el.getBoundingClientRect();
                   const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                   return el === top || el.contains(top); }"""
    )
    assert hit, control


def every_row_action(page: Page, testid: str = "row") -> int:
    """Each row's actions (those in its "More" menu once opened) on screen and clickable."""
    rows = page.get_by_test_id(testid)
    assert rows.count() > 0
    seen = 0
    for index in range(rows.count()):
        cell = rows.nth(index).locator(".row-actions")
        menu = cell.get_by_test_id("row-menu")
        if menu.count():
            on_screen_and_clickable(page, menu.locator("summary"))
            menu.locator("summary").click()
        actions = cell.locator("a, button")
        assert actions.count() > 0
        for n in range(actions.count()):
            on_screen_and_clickable(page, actions.nth(n))
            seen += 1
        if menu.count():
            page.keyboard.press("Escape")
            expect(menu).not_to_have_attribute("open", "")
    return seen


def truncated_with_title(page: Page, text: str) -> None:
    """A long value is cut short on one line and given whole on hover (its title)."""
    cell = page.locator(f'[title="{text}"]').first
    expect(cell).to_be_attached()
    if cell.is_visible():
        assert cell.evaluate("el => el.scrollWidth > el.clientWidth || el.closest('td, th')")


@pytest.mark.parametrize("size", list(SIZES))
def test_the_lists_fit_and_every_row_action_is_within_reach(
    sign_in_as: Callable[..., Page], page: Page, tenant, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    sign_in_as(ADMIN, path="/exchange-connectors/")
    document_fits(page)
    every_row_action(page)
    truncated_with_title(page, LONG_HOST)
    screenshot(page, f"layout-exchange-list-{size}")

    page.goto("/app-proxy/connectors/")
    expect(page.get_by_test_id("row")).to_have_count(3)
    document_fits(page)
    every_row_action(page)
    screenshot(page, f"layout-app-proxy-list-{size}")

    page.goto("/app-proxy/connectors/?view=groups")
    expect(page.get_by_test_id("group")).to_have_count(2)
    document_fits(page)
    every_row_action(page)
    screenshot(page, f"layout-app-proxy-grouped-{size}")

    page.goto("/app-proxy/groups/")
    document_fits(page)
    every_row_action(page, "group")
    screenshot(page, f"layout-groups-{size}")

    page.goto("/audit/")
    expect(page.locator("[data-entry-id]")).to_have_count(3)
    document_fits(page)
    screenshot(page, f"layout-audit-{size}")

    page.goto("/audit/intune/")
    expect(page.locator("[data-event-id]")).to_have_count(1)
    document_fits(page)

    page.goto("/")
    expect(page.get_by_test_id("exchange-card")).to_be_visible()
    document_fits(page)


@pytest.mark.parametrize("size", list(SIZES))
def test_a_detail_page_and_the_edit_review_fit(
    sign_in_as: Callable[..., Page], page: Page, tenant, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    connector = tenant["exchange"][0]
    sign_in_as(ADMIN, path=f"/exchange-connectors/{connector.id}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("EXCH-MAILBOX")
    document_fits(page)
    # The detail page gives long values whole.
    expect(page.locator(".facts")).to_contain_text(LONG_ORG[:255].strip())
    screenshot(page, f"layout-exchange-detail-{size}")

    page.goto("/exchange-connectors/")
    row = page.locator(f'tr[data-connector="{LONG_HOST}"]')
    row_action(row, "Edit").click()
    editor = page.get_by_test_id("row-editing")
    editor.get_by_label("Exchange alias").fill("intune-west")
    on_screen_and_clickable(page, editor.get_by_role("button", name="Review changes"))
    editor.get_by_role("button", name="Review changes").click()
    review = page.get_by_test_id("review")
    expect(review.get_by_test_id("change")).to_have_count(1)
    document_fits(page)
    on_screen_and_clickable(page, review.get_by_role("button", name="Save"))
    screenshot(page, f"layout-exchange-edit-review-{size}")

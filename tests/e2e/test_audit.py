"""The audit log in a real browser: htmx filters and sorting, Intune's dropdowns, correlation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import ConsoleMessage, Page, Response, expect

from audit.models import Action, Outcome, Phase, TargetType
from audit.services import Actor, Target, audit_record
from sandbox.tenant import audit_event_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADA = Actor(oid="a1", upn="ada@contoso.example", name="Ada", tenant_id="t1")
BOB = Actor(oid="b1", upn="bob@contoso.example", name="Bob", tenant_id="t1")


def record(actor: Actor, target_id: str, outcome: Outcome | None) -> None:
    common = {
        "actor": actor,
        "action": Action.EXCHANGE_CONNECTOR_UPDATE,
        "target": Target(type=TargetType.EXCHANGE_CONNECTOR, id=target_id, name=target_id),
        "correlation_id": uuid.uuid4(),
        "before": {"status": "connected"},
        "after": {"status": "disconnected"},
    }
    attempt = audit_record(phase=Phase.ATTEMPT, **common)
    if outcome is not None:
        audit_record(phase=Phase.OUTCOME, attempt=attempt, outcome=outcome, **common)


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Console errors (a Content-Security-Policy refusal, a script error) and failed requests;
    the browser's own favicon probe aside."""
    errors: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def failed(response: Response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"{response.status} {response.url}")

    page.on("console", keep)
    page.on("response", failed)
    return errors


def test_filters_and_sorting_swap_the_table_and_keep_the_url(
    sign_in_as: Callable[..., Page], page: Page, console_errors: list[str]
) -> None:
    record(ADA, "EXCH-A", Outcome.SUCCEEDED)
    record(BOB, "EXCH-B", Outcome.FAILED)
    record(ADA, "EXCH-C", None)
    sign_in_as("reader@sandbox.example", path="/audit/")
    rows = page.locator("tr[data-entry-id]")
    expect(rows).to_have_count(3)
    page.evaluate("window.__noReload = true")

    page.get_by_label("Outcome").select_option("failed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("EXCH-B")
    expect(page).to_have_url(re.compile(r"/audit/\?.*outcome=failed"))

    page.get_by_label("Outcome").select_option("")
    expect(rows).to_have_count(3)
    page.get_by_role("link", name="Actor").click()
    expect(page).to_have_url(re.compile(r"sort=actor"))
    expect(rows.first).to_contain_text("Ada")
    expect(rows.last).to_contain_text("Bob")
    # The sort rides along with the next filter change.
    page.get_by_label("Search").fill("EXCH-")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"q=EXCH-"))
    expect(page).to_have_url(re.compile(r"sort=actor"))
    expect(page.locator("tr[data-entry-id]").last).to_contain_text("Bob")
    expect(page.locator("#audit-results .badge-warn")).to_have_text("Outcome unknown")

    assert page.evaluate("window.__noReload") is True, "htmx swapped; the page never reloaded"
    assert console_errors == []


def test_the_intune_activity_types_follow_the_category(
    sign_in_as: Callable[..., Page], page: Page, console_errors: list[str]
) -> None:
    audit_event_create(
        category="Other",
        activity="Sync DeviceManagementExchangeConnector",
        activity_type="Sync DeviceManagementExchangeConnector",
    )
    audit_event_create(
        category="Role", activity="Create RoleDefinition", activity_type="Create RoleDefinition"
    )
    sign_in_as("admin@sandbox.example", path="/audit/intune/")
    expect(page.locator("tr[data-event-id]")).to_have_count(2)
    activity_types = page.get_by_label("Activity type").locator("option")
    expect(activity_types).to_have_count(1)

    page.get_by_label("Category").select_option("Role")
    expect(page.get_by_label("Activity type").locator("option")).to_have_count(2)
    page.get_by_label("Activity type").select_option("Create RoleDefinition")
    page.get_by_role("button", name="Show events").click()
    expect(page.locator("tr[data-event-id]")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"activity_type=Create(\+|%20)RoleDefinition"))
    assert console_errors == []

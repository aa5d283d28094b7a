"""Drift in the browser: an Admin records the baseline, a connector is moved straight through
Graph (not the dashboard), the drift page and the drift incident say so with before -> after,
and Accept on the incident resolves it; at a laptop's and a phone's size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN, consent_to
from tests.e2e.conftest import screenshot
from tests.e2e.test_layout import SIZES, document_fits
from tests.sandbox.graph_support import ALL_SCOPES, Caller
from tests.watch.drift_support import TENANT, drift_estate, observed
from watch import drift_receiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
REAL_GRAPH = "https://graph.microsoft.com/beta"
GROUPS = "onPremisesPublishingProfiles/applicationProxy/connectorGroups"
CONNECTORS = "onPremisesPublishingProfiles/applicationProxy/connectors"


@pytest.mark.parametrize("size", list(SIZES))
def test_a_move_outside_the_dashboard_opens_a_drift_incident_and_accepting_resolves_it(
    sign_in_as: Callable[..., Page],
    page: Page,
    admin_client: Client,
    graph_token: Any,
    size: str,
) -> None:
    estate = drift_estate()
    consent_to(ADMIN, [*settings.GRAPH_SCOPES, *settings.APP_PROXY_GRAPH_SCOPES])
    page.set_viewport_size(SIZES[size])
    sign_in_as(ADMIN, path=f"/t/{TENANT}/watch/drift/")
    expect(page.get_by_test_id("no-baseline")).to_be_visible()

    page.get_by_role("button", name="Record from Graph now").click()
    expect(page.locator("#toasts")).to_contain_text("Recorded the baseline")
    expect(page.get_by_test_id("no-drift")).to_be_visible()

    connector, east = estate["connector"], estate["east"]
    moved = Caller(graph_token(ADMIN, ALL_SCOPES)).post(
        f"{CONNECTORS}/{connector.id}/memberOf/$ref",
        json={"@odata.id": f"{REAL_GRAPH}/{GROUPS}/{east.id}"},
    )
    assert moved.status_code == 204
    drift_receiver.compare_sweep(observed(admin_client, "2"))

    page.reload()
    row = page.get_by_test_id("drift-row")
    expect(row).to_contain_text("APPPROXY-A")
    expect(row.locator(".drift-before")).to_contain_text("Default")
    expect(row.locator(".drift-after")).to_contain_text("East")
    expect(row.get_by_test_id("drift-source")).to_contain_text("Changed outside the dashboard")
    expect(page.get_by_test_id("drift-seen")).to_contain_text("APPPROXY-A")
    document_fits(page)
    screenshot(page, f"drift-{size}")

    page.goto("/watch/alerts/")
    incident = page.get_by_role("link", name="App Proxy connector APPPROXY-A changed outside")
    expect(incident).to_contain_text("Connector group Default → East")
    incident.click()
    drift = page.get_by_test_id("incident-drift")
    expect(drift.locator(".drift-before")).to_contain_text("Default")
    expect(drift.locator(".drift-after")).to_contain_text("East")
    expect(drift.get_by_test_id("drift-source")).to_contain_text("Changed outside the dashboard")
    expect(page.get_by_test_id("incident-state")).to_contain_text("Open")
    document_fits(page)
    screenshot(page, f"drift-incident-{size}")

    drift.get_by_role("button", name="Accept into the baseline").click()
    expect(page.locator("#toasts")).to_contain_text("Accepted the drift of APPPROXY-A")
    expect(page.get_by_test_id("incident-state")).to_contain_text("Resolved")
    expect(page.get_by_test_id("incident-drift")).not_to_contain_text("Accept into the baseline")
    document_fits(page)

    page.goto(f"/t/{TENANT}/watch/drift/")
    expect(page.get_by_test_id("no-drift")).to_be_visible()

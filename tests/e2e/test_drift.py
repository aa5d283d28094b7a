"""Drift in the browser: an Admin records the baseline, a setting is changed outside the
dashboard, the check shows it (before → after, changed outside), and the Admin accepts it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from sandbox.models import ExchangeConnector
from tests.conftest import ADMIN, consent_to
from tests.e2e.conftest import screenshot
from tests.e2e.test_layout import SIZES, document_fits, on_screen_and_clickable
from tests.sandbox import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DRIFT = f"/t/{settings.ENTRA_TENANT_ID}/watch/drift/"


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_an_admin_sees_a_change_made_outside_and_accepts_it(
    sign_in_as: Callable[..., Page], page: Page, size: str
) -> None:
    connector = factories.exchange_connector(exchange_alias="contoso")
    factories.connector_group(name="East", region="eur")
    consent_to(ADMIN, [*settings.APP_PROXY_GRAPH_SCOPES])
    page.set_viewport_size(SIZES[size])
    sign_in_as(ADMIN, path=DRIFT)
    expect(page.get_by_test_id("drift-baseline")).to_contain_text("No baseline yet")

    page.get_by_role("button", name="Record the baseline").click()
    expect(page.get_by_test_id("drift-baseline")).to_contain_text("2 objects")

    # Someone changes the alias in Intune itself, not through the dashboard.
    ExchangeConnector.objects.filter(pk=connector.pk).update(exchange_alias="fabrikam")
    page.get_by_role("button", name="Check now").click()

    finding = page.get_by_test_id("drift-finding")
    expect(finding).to_have_count(1)
    expect(finding).to_contain_text("exchangeAlias")
    expect(finding).to_contain_text("contoso → fabrikam")
    expect(finding).to_contain_text("Changed outside the dashboard")
    document_fits(page)
    screenshot(page, f"drift-{size}")

    expect(page.locator("#toasts .toast")).to_have_count(0, timeout=15_000)
    accept = finding.get_by_role("button", name="Accept")
    on_screen_and_clickable(page, accept)
    accept.click()

    expect(page.get_by_test_id("drift-open")).to_contain_text("No change since the baseline.")
    expect(page.get_by_test_id("drift-closed")).to_contain_text(
        f"contoso → fabrikam — accepted by {ADMIN}"
    )
    document_fits(page)

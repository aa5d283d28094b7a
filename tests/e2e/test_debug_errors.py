"""With DEBUG on (as `dev.py serve` runs), an htmx answer of 400, 403, 404 or 500 leaves the page
as it was and a toast says what happened (issue 13, item 1): django-htmx's debug handler, which
swaps the error body over the whole document, is not loaded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, Response, expect

from sandbox.models import ExchangeConnector
from tests.sandbox import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def debug_on(settings) -> Iterator[None]:
    settings.DEBUG = True
    yield


@pytest.fixture
def connectors() -> list[ExchangeConnector]:
    now = timezone.now()
    return [
        factories.exchange_connector(
            server_name=f"EXCH-DBG0{n}.contoso.local", last_sync=now - timedelta(hours=n)
        )
        for n in (1, 2)
    ]


def row(page: Page, server_name: str):
    return page.locator(f'tr[data-connector="{server_name}"]')


def page_stayed(page: Page) -> None:
    """The list is still there (no blank document), in the same page load."""
    assert page.evaluate("window.__noReload") is True
    expect(page.get_by_role("heading", name="Exchange connectors")).to_be_visible()
    expect(page.get_by_test_id("row")).to_have_count(2)


def open_list(sign_in_as: Callable[..., Page], upn: str) -> Page:
    page = sign_in_as(upn, path="/exchange-connectors/")
    expect(page.get_by_test_id("row")).to_have_count(2)
    # No django-htmx debug script (it would replace the document with an error's body).
    assert page.evaluate("document.querySelector('script[data-debug]') === null")
    page.evaluate("window.__noReload = true")
    return page


def quick_sync(page: Page, server_name: str) -> Response:
    """Click the row's Quick sync; the dashboard's answer."""
    with page.expect_response(lambda r: "/sync/" in r.url) as answer:
        row(page, server_name).get_by_role("button", name="Quick sync").click()
    return answer.value


def test_a_400_sync_selected_with_nothing_ticked(sign_in_as, connectors) -> None:
    page = open_list(sign_in_as, "admin@sandbox.example")
    with page.expect_response(lambda r: r.url.endswith("/exchange-connectors/sync/")) as answer:
        page.get_by_role("button", name="Sync selected").click()
    assert answer.value.status == 400
    expect(page.locator(".toast")).to_contain_text("Select between 1 and 500 connectors")
    page_stayed(page)


def test_a_403_graph_refuses_a_quick_sync(sign_in_as, connectors) -> None:
    page = open_list(sign_in_as, "limited@sandbox.example")
    assert quick_sync(page, "EXCH-DBG01.contoso.local").status == 403
    expect(page.locator(".toast")).to_contain_text("Graph refused this: your account lacks")
    page_stayed(page)


def test_a_404_the_connector_was_deleted_meanwhile(sign_in_as, connectors) -> None:
    page = open_list(sign_in_as, "admin@sandbox.example")
    ExchangeConnector.objects.filter(pk=connectors[0].pk).delete()
    assert quick_sync(page, "EXCH-DBG01.contoso.local").status == 404
    expect(page.locator(".toast")).to_contain_text("Graph has no such object")
    page_stayed(page)


def test_a_500_a_crash_in_the_dashboard(sign_in_as, connectors, monkeypatch) -> None:
    page = open_list(sign_in_as, "admin@sandbox.example")

    def crash(**kwargs: object) -> None:
        raise RuntimeError("a bug, not a Graph fault")

    # The live server runs in this process: its next sync request crashes for real, and
    # Django answers with its DEBUG traceback page (which django-htmx would have swapped in).
    monkeypatch.setattr("connectors.services.exchange_connector_sync", crash)
    answer = quick_sync(page, "EXCH-DBG02.contoso.local")
    assert answer.status == 500
    assert "RuntimeError" in answer.text()  # DEBUG's traceback page: DEBUG really is on
    expect(page.locator(".toast")).to_contain_text("The dashboard failed to answer")
    expect(page.locator(".toast")).to_contain_text("HTTP 500")
    page_stayed(page)

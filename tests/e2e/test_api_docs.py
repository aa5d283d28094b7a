"""The API's interactive docs in a real browser: Swagger UI from local assets, under the CSP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADMIN = "admin@sandbox.example"
# Set before any of the page's own scripts run (Playwright's init scripts are not subject to the
# page's CSP): every Content-Security-Policy violation, with the directive that refused it.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push({
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
  });
});
"""


def test_swagger_ui_renders_the_operations_from_the_live_server_only(
    sign_in_as: Callable[..., Page], page: Page, base_url: str
) -> None:
    sign_in_as(ADMIN)
    requested: list[str] = []
    console: list[str] = []
    page_errors: list[str] = []

    def keep_console(message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            console.append(f"{message.type}: {message.text}")

    def keep_request(request: Request) -> None:
        requested.append(request.url)

    page.on("request", keep_request)
    page.on("console", keep_console)
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.add_init_script(RECORD_CSP_VIOLATIONS)

    response = page.goto(f"{base_url}/api/docs/")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]

    # Swagger UI fetched the schema and drew each operation's summary line.
    exchange_list = page.locator(
        '.opblock-get .opblock-summary-path[data-path="/api/v1/exchange-connectors/"]'
    )
    expect(exchange_list).to_be_visible()
    expect(page.locator(".opblock-summary-path[data-path='/api/v1/audit/csv/']")).to_be_visible()
    expect(page.get_by_role("heading", name="Connector Dashboard API")).to_be_visible()
    # Its scripts run: an operation opens to show its parameters.
    exchange_list.click()
    opened = page.locator(".opblock.is-open")
    expect(opened.get_by_role("button", name="Try it out")).to_be_visible()
    expect(opened.locator("tr[data-param-name='page_size']")).to_be_visible()

    # The strict policy holds and nothing is refused: its one inline <style> is allowed by hash.
    violations: list[dict[str, Any]] = page.evaluate("window.__cspViolations")
    assert violations == [], (violations, console)
    assert page_errors == []

    assert requested, "the page made no requests"
    elsewhere = [url for url in requested if not url.startswith(f"{base_url}/")]
    assert elsewhere == []
    assert any(url.startswith(f"{base_url}/api/schema/") for url in requested)
    assert any("swagger-ui-bundle.js" in url for url in requested)


def test_anonymous_docs_are_a_401_in_json(page: Page, base_url: str) -> None:
    response = page.goto(f"{base_url}/api/docs/")
    assert response is not None and response.status == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body) == {"message", "extra"} and body["message"]
    script = page.request.get(f"{base_url}/api/docs/?script=")
    assert script.status == 401

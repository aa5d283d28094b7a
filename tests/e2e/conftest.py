"""The browser-test harness: Debian's Chromium driven by Playwright against Django's live server.

The dashboard runs in sandbox mode inside the live server thread; the sandbox's sign-in page is
served by the same server under /sandbox/, so a real browser walks the whole MSAL flow.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.conftest import home_tenant_path

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Playwright's sync API keeps an event loop in the test thread; Django would then refuse the
# tests' own (synchronous, safe) database access, and the test database's teardown.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}}


@pytest.fixture(scope="session")
def base_url(live_server: Any) -> str:
    """Playwright resolves relative URLs (page.goto("/")) against the live server."""
    return live_server.url


@pytest.fixture
def sign_in_as(page: Page, base_url: str) -> Callable[[str], Page]:
    """Sign in through the sandbox's sign-in page as the given demo user."""

    def sign_in(upn: str, path: str = "/") -> Page:
        page.goto(f"{base_url}{path}")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_role("button", name=upn).click()
        # Today's tenant-less URLs land on the home tenant's (/t/<home>/…).
        page.wait_for_url(f"{base_url}{home_tenant_path(path)}")
        return page

    return sign_in


def row_action(row: Locator, name: str) -> Locator:
    """A table row's action link, opening the row's "More" menu first when the action is in it."""
    link = row.locator(".row-actions").get_by_role("link", name=name, exact=True)
    menu = row.get_by_test_id("row-menu")
    if menu.count() and menu.get_attribute("open") is None:
        menu.locator("summary").click()
    return link


def screenshot(page: Page, name: str) -> None:
    """Save docs/screenshots/<name>.png for the README, only with UPDATE_SCREENSHOTS=1.

    So a test run (CI) leaves the work tree clean; refresh the pictures deliberately.
    """
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

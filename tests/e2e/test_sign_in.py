"""Sign-in and sign-out in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_signs_in_lands_on_the_overview_and_signs_out(
    sign_in_as, page: Page, base_url: str, browser: Browser
) -> None:
    sign_in_as("admin@sandbox.example")
    expect(page.get_by_test_id("overview-name")).to_have_text("Ada Admin")
    expect(page.get_by_test_id("user-role")).to_have_text("Admin")
    expect(page.get_by_text("Sandbox tenant", exact=True)).to_be_visible()
    session_cookie = next(c for c in page.context.cookies() if c["name"] == "sessionid")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    # The old session cookie no longer grants access: it leads to sign-in, not the overview.
    replay = browser.new_context()
    replay.add_cookies([session_cookie])
    stale = replay.new_page()
    stale.goto(f"{base_url}/")
    expect(stale.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "/sandbox/" in stale.url
    replay.close()


def test_cancel_on_the_sign_in_page_shows_a_clear_message(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_role("button", name="Cancel").click()
    expect(
        page.get_by_role("heading", name="The identity provider refused the sign-in")
    ).to_be_visible()
    expect(page.get_by_test_id("sign-in-error")).to_contain_text("cancelled")


def test_sign_in_returns_to_the_page_asked_for(sign_in_as, page: Page) -> None:
    sign_in_as("reader@sandbox.example", path="/?view=compact")
    expect(page.get_by_test_id("overview-role")).to_have_text("Reader")

"""An Admin adds a notification channel in the browser and sends it a test: a real worker
delivers it to a local receiver that verifies the signature, and the page shows it sent; a bad
URL is refused in place, with what was typed kept. At a laptop's size and a phone's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN
from tests.e2e.conftest import screenshot
from tests.e2e.test_layout import SIZES, document_fits, on_screen_and_clickable
from tests.watch.conftest import broker, worker  # noqa: F401  (a real worker for the test)
from tests.watch.receivers import WebhookReceiver, webhook_receiver
from watch.models import NotificationChannel

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECRET = "browser-test-signing-secret"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver(secret=SECRET) as running:
        yield running


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_an_admin_adds_a_signed_webhook_and_sends_it_a_test(
    sign_in_as: Callable[..., Page],
    page: Page,
    worker: Any,  # noqa: F811
    receiver: WebhookReceiver,
    size: str,
) -> None:
    page.set_viewport_size(SIZES[size])
    sign_in_as(ADMIN, path="/watch/")
    page.get_by_role("link", name="Notification channels").click()
    expect(page.get_by_test_id("no-channels")).to_be_visible()
    page.get_by_role("link", name="New channel").click()

    page.get_by_label("Name").fill("On call")
    page.get_by_label("Kind").select_option(label="Signed JSON webhook")
    page.get_by_label("Webhook URL").fill("http://hooks.example/not-https")
    page.get_by_label("Signing secret").fill(SECRET)
    page.get_by_role("button", name="Create").click()

    # Refused in place: the field says why, and what was typed is still there.
    url_field = page.locator(".field-invalid").filter(has=page.get_by_label("Webhook URL"))
    expect(url_field).to_contain_text("Use https://")
    expect(page.get_by_label("Name")).to_have_value("On call")
    document_fits(page)
    page.get_by_label("Webhook URL").fill(receiver.url)
    page.get_by_role("button", name="Create").click()

    expect(page.get_by_role("heading", name="On call")).to_be_visible()
    expect(page.get_by_test_id("url-state")).to_have_text("Set")
    expect(page.get_by_test_id("secret-state")).to_have_text("Set")
    send = page.get_by_role("button", name="Send a test")
    on_screen_and_clickable(page, send)
    send.click()

    deliveries = page.get_by_test_id("deliveries")
    expect(deliveries.get_by_test_id("delivery")).to_have_count(1)
    # The table follows the delivery until the worker has sent it.
    expect(deliveries.get_by_test_id("delivery-status")).to_have_text("Sent", timeout=20_000)
    expect(deliveries.get_by_test_id("delivery-answer")).to_have_text("HTTP 200")
    (request,) = receiver.received
    assert request.signature_ok is True
    assert request.json()["event"] == "test"
    assert str(NotificationChannel.objects.get().pk) == request.json()["object_id"]
    document_fits(page)
    if size == "laptop":
        screenshot(page, "watch-channel")
    page.get_by_role("link", name="Notification channels").click()
    expect(page.get_by_test_id("channels")).to_contain_text("1 sent")
    document_fits(page)

"""Django messages reach the user as toasts, on full pages and on htmx responses."""

from __future__ import annotations

import json

import pytest
from django.contrib import messages
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django_htmx.middleware import HtmxMiddleware

from kernel.middleware import HtmxMessagesMiddleware

pytestmark = pytest.mark.django_db


def saving_view(request: HttpRequest) -> HttpResponse:
    messages.success(request, "Connector saved.")
    response = HttpResponse("<tr>row</tr>")
    response["HX-Trigger"] = json.dumps({"rowUpdated": {"id": "c1"}})
    return response


def stack(view):  # the same order as settings.MIDDLEWARE
    return SessionMiddleware(MessageMiddleware(HtmxMiddleware(HtmxMessagesMiddleware(view))))


def test_htmx_response_carries_messages_as_a_toasts_event_beside_other_triggers() -> None:
    request = RequestFactory().post("/x", headers={"HX-Request": "true"})
    response = stack(saving_view)(request)
    trigger = json.loads(response["HX-Trigger"])
    assert trigger["toasts"] == {"toasts": [{"level": "success", "message": "Connector saved."}]}
    assert trigger["rowUpdated"] == {"id": "c1"}


def test_plain_request_keeps_messages_for_the_page() -> None:
    request = RequestFactory().post("/x")
    response = stack(saving_view)(request)
    assert "toasts" not in response.get("HX-Trigger", "")
    assert [str(m) for m in messages.get_messages(request)] == ["Connector saved."]


def test_full_page_shows_stored_messages_as_toasts(admin_client) -> None:
    session = admin_client.session
    session["_messages"] = json.dumps(
        [["__json_message", 0, 25, "Sync requested."]], separators=(",", ":")
    )
    session.save()
    page = admin_client.get("/").content.decode()
    assert 'class="toast toast-success">Sync requested.</div>' in page

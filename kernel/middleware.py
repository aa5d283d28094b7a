"""Site-wide middleware: one Graph deadline per request, sign-in required everywhere but the
public paths, the one fault path for pages, and toasts for htmx."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_htmx.http import trigger_client_event

from graph.deadline import graph_deadline
from kernel.faults import fault_response, sign_in_again


class GraphDeadlineMiddleware:
    """Every Graph call a request makes ends within GRAPH_REQUEST_DEADLINE_SECONDS of its start,
    retries and waits included, so a slow or throttling Graph answers with a fault page (or a
    503 + Retry-After) before the server's worker timeout could answer a bare 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with graph_deadline(settings.GRAPH_REQUEST_DEADLINE_SECONDS):
            return self.get_response(request)


class SignInRequiredMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, answering htmx and API requests in their own terms."""

    def handle_no_permission(
        self, request: HttpRequest, view_func: Callable[..., Any]
    ) -> HttpResponse:
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {"message": "Authentication credentials were not provided.", "extra": {}},
                status=401,
            )
            response["WWW-Authenticate"] = 'Bearer realm="api"'
            return response
        return sign_in_again(request)


class HtmxMessagesMiddleware:
    """Carry Django messages to htmx responses as an `toasts` event in `HX-Trigger`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or 300 <= response.status_code < 400:
            return response
        if "HX-Redirect" in response or "HX-Location" in response:
            return response  # the next full page shows them
        toasts = [{"level": m.level_tag, "message": str(m)} for m in messages.get_messages(request)]
        if toasts:
            # After the answer's own toasts (a fault's message), never in their place.
            own = json.loads(response.get("HX-Trigger") or "{}").get("toasts", {}).get("toasts", [])
            trigger_client_event(response, "toasts", {"toasts": [*own, *toasts]})
        return response


class FaultMiddleware:
    """Graph faults and domain refusals leave every page view by this one path
    (`kernel.faults.fault_response`); the API answers them in its exception handler alike."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        response = fault_response(request, exception)
        session = getattr(request, "session", None)
        if response is not None and response.status_code >= 500 and session and session.modified:
            # Django's SessionMiddleware skips saving on 5xx answers; tokens refreshed during
            # this request (a rotated refresh token) must not be lost with Graph's outage.
            session.save()
        return response

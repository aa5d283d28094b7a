"""The site shell's pages: the overview, the health check, the 404."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found

from connectors import selectors
from graph.errors import GraphAuthError, GraphError
from kernel.faults import graph_fault_message
from kernel.graph_clients import graph_for
from watch.alert_selectors import open_incidents
from watch.broker import broker_reachability


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Who is signed in, and both connector families at a glance (each card on its own: a Graph
    fault or a missing consent on one leaves the other)."""
    context: dict[str, Any] = {
        "tenant_id": request.user.tenant_id,
        "authority": settings.ENTRA_AUTHORITY,
        "graph_base_url": settings.GRAPH_BASE_URL,
        "alerts": open_incidents(),
    }
    # Deliberately inline: each card shows its own fault, so one family's outage leaves the
    # other's card; no token at all still takes the one fault path (sign-in).
    try:
        context["exchange"] = selectors.exchange_connector_summary(
            graph=graph_for(request), now=timezone.now()
        )
    except GraphAuthError:
        raise
    except GraphError as error:
        context["exchange_error"] = graph_fault_message(error)
    try:
        context["app_proxy"] = selectors.app_proxy_summary(
            graph=graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES)
        )
    except GraphAuthError:
        # Directory.ReadWrite.All comes with the first visit to the App Proxy pages.
        context["app_proxy_consent_needed"] = True
    except GraphError as error:
        context["app_proxy_error"] = graph_fault_message(error)
    return render(request, "dashboard/overview.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the web can serve (the database answers); 503 when it cannot.

    The broker is reported but never fails the check: without it, background work waits while
    the pages keep working, so a load balancer must not take the web server out.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        database = "unreachable"
    else:
        database = "ok"
    status = broker_reachability(
        timeout=settings.HEALTHZ_BROKER_TIMEOUT_SECONDS,
        max_age=settings.HEALTHZ_BROKER_CHECK_SECONDS,
    )
    body = {
        "status": "ok" if database == "ok" else "unavailable",
        "database": database,
        "broker": "ok" if status.reachable else "unreachable",
    }
    if not status.reachable:
        body["broker_note"] = (
            "Background work (the watch) waits until the broker is back; the web is unaffected, "
            "so this check does not fail for it."
        )
    return JsonResponse(body, status=200 if database == "ok" else 503)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 in the caller's terms: the API's JSON error shape under /api/, a page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"message": "No such API URL.", "extra": {}}, status=404)
    return page_not_found(request, exception)

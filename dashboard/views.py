"""The site shell's pages: the overview and the health check."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "dashboard/overview.html",
        {
            "tenant_id": request.user.tenant_id,
            "authority": settings.ENTRA_AUTHORITY,
            "graph_base_url": settings.GRAPH_BASE_URL,
        },
    )


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 in the caller's terms: the API's JSON error shape under /api/, a page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"message": "No such API URL.", "extra": {}}, status=404)
    return page_not_found(request, exception)

"""Tenant routing: the tenant is in the path, never only in the session.

`/t/<tenant>/…` (pages) and `/api/v1/tenants/<tenant>/…` (API): the tenant must be one the
dashboard manages (by id or domain, and on `TENANT_ALLOW_LIST` when that is set); the request
then carries it (`request.tenant`) and is resolved with that tenant's URLconf. Today's
tenant-less page URLs redirect to the home tenant's; the API's answer as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render

from dashboard.tenant_urls import tenant_urlconf
from kernel.tenancy import TenantRef, home_tenant_id
from tenants.selectors import managed_tenant_get, tenant_allowed

TENANT_PATH = re.compile(r"^/(?:t|api/v1/tenants)/(?P<tenant>[^/]+)/")
# Today's page URLs that belong to a tenant (the audit log itself spans every tenant).
LEGACY_TENANT_PAGES = ("/exchange-connectors/", "/app-proxy/", "/audit/intune/")


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"message": message, "extra": {}}, status=status)
    context = {"title": "Not one of your tenants", "message": message, "back": "/tenants/"}
    return render(request, "dashboard/graph_error.html", context, status=status)


class TenantRoutingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = TENANT_PATH.match(request.path_info)
        if match:
            refusal = self._enter(request, match["tenant"])
            if refusal is not None:
                return refusal
        elif request.path_info.startswith(LEGACY_TENANT_PAGES) and request.user.is_authenticated:
            # Signed in first (the sign-in comes back here): the home tenant is the user's.
            return self._to_home_tenant(request)
        return self.get_response(request)

    def _enter(self, request: HttpRequest, segment: str) -> HttpResponse | None:
        home = home_tenant_id(request)
        tenant = managed_tenant_get(segment=segment)
        if tenant is None and segment.lower() != home.lower():
            if not request.user.is_authenticated and not request.path.startswith("/api/"):
                request.urlconf = tenant_urlconf(segment)  # sign in first, then find out
                return None
            return _refused(
                request,
                f"{segment} is not one of the tenants this dashboard manages. Add it on the "
                "tenants page (by its id or domain), or discover your GDAP customers there.",
                404,
            )
        tenant_id = tenant.tenant_id if tenant else home.lower()
        if not tenant_allowed(tenant_id) and tenant_id != home.lower():
            return _refused(
                request, f"Your organisation does not allow this dashboard in {segment}.", 403
            )
        request.tenant = TenantRef(  # type: ignore[attr-defined]
            id=tenant_id,
            name=tenant.display_name if tenant else "Home tenant",
            domain=tenant.default_domain if tenant else "",
        )
        request.urlconf = tenant_urlconf(segment)  # type: ignore[attr-defined]
        return None

    def _to_home_tenant(self, request: HttpRequest) -> HttpResponse:
        target = f"/t/{quote(home_tenant_id(request))}{quote(request.path_info)}"
        if query := request.META.get("QUERY_STRING"):
            target = f"{target}?{query}"
        response = HttpResponseRedirect(target)
        if request.method not in {"GET", "HEAD"}:
            response.status_code = 307  # a form posted to an old URL is posted again, unchanged
        return response

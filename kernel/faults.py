"""The one fault path: how the dashboard answers when Graph fails or a domain rule refuses.

Views do not catch `GraphError` or `Refusal`: `FaultMiddleware` (pages) and the API's exception
handler (`kernel.api.errors`) turn them into an answer with the same status and message — a full
page for a plain request, a toast (and no swap) for an htmx request, a trip back through sign-in
when no token could be had, or the API's JSON. One message per fault, naming Graph's request id.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from graph.errors import (
    GraphAuthError,
    GraphBadRequest,
    GraphError,
    GraphNotFound,
    GraphNotSent,
    GraphPermissionError,
    GraphThrottled,
    GraphTimeout,
    GraphUnavailable,
    may_have_been_applied,
)
from kernel.errors import Refusal
from kernel.identity import SignInError, TenantRefused, admin_consent_url
from kernel.tenancy import request_tenant


def graph_fault_message(error: GraphError) -> str:
    """What went wrong and what to do, in the admin's terms."""
    if isinstance(error, GraphPermissionError):
        needed = (
            f"{error.required_permission}, a permission this action needs"
            if error.required_permission
            else "a permission this action needs"
        )
        text = f"Graph refused this: your account lacks {needed}."
    elif isinstance(error, GraphNotFound):
        text = "Graph has no such object: it may have been deleted meanwhile."
    elif isinstance(error, GraphBadRequest):
        text = f"Graph refused the request: {error.message}"
    elif isinstance(error, GraphThrottled):
        text = (
            f"Graph is throttling requests for this tenant. Try again in "
            f"{max(1, round(error.retry_after))} seconds."
        )
    elif isinstance(error, GraphTimeout):
        text = "Graph did not answer in time."
    elif isinstance(error, GraphNotSent):
        text = (
            "Graph is answering too slowly: the dashboard's time for Graph ran out before this "
            "request was sent."
        )
        if error.write:
            text += " Nothing was changed."
    elif isinstance(error, GraphUnavailable) and error.status and error.status < 400:
        text = "Graph's answer could not be read."
    elif isinstance(error, GraphUnavailable):
        status = f" (HTTP {error.status})" if error.status else ""
        text = f"Graph is unavailable right now{status}."
    else:
        text = f"Graph answered with an error: {error.message}"
    if error.write and may_have_been_applied(error):
        # Only a write can leave a change behind; a read's message never speaks of one.
        text += (
            " The change may or may not have been applied: check the object and the audit log "
            "before trying again."
        )
    elif isinstance(error, GraphUnavailable):
        text += " Try again in a moment."
    code = f" Graph code: {error.code}." if error.code else ""
    return f"{text}{code} {request_reference(error)}"


def request_reference(error: GraphError) -> str:
    """The ids a support ticket needs: Graph's request id, and Intune's Operation ID if any."""
    if error.request_id:
        reference = f"Graph request id: {error.request_id}."
    elif error.client_request_id:
        reference = f"Client request id: {error.client_request_id}."
    else:
        reference = ""
    if error.operation_id:
        reference = f"{reference} Operation ID: {error.operation_id}.".lstrip()
    return reference


def fault_status(error: GraphError) -> int:
    """The HTTP status the dashboard (pages and API) answers with for this Graph fault.

    Graph's refusals keep their meaning (403, 404, 400/409); Graph's failures are the gateway's:
    502, 503 (throttled or unavailable: see Retry-After) and 504 (no answer in time).
    """
    if isinstance(error, GraphAuthError):
        return 401
    if isinstance(error, GraphPermissionError):
        return 403
    if isinstance(error, GraphNotFound):
        return 404
    if isinstance(error, GraphBadRequest):
        return error.status if error.status in {400, 409, 412, 422} else 400
    if isinstance(error, GraphThrottled):
        return 503
    if isinstance(error, GraphTimeout | GraphNotSent):
        return 504
    if isinstance(error, GraphUnavailable) and error.status == 503:
        return 503
    return 502


def tenant_refusal_message(request: HttpRequest, refused: TenantRefused) -> str:
    """What the tenant refused and what to do about it, naming the tenant as the user knows it."""
    current = request_tenant(request)
    name = current.label if current and current.id == refused.tenant_id else refused.tenant_id
    if refused.reason == TenantRefused.CONSENT_REQUIRED:
        return (
            f"The dashboard is not consented in {name}: an administrator of that tenant must "
            "grant it its permissions there first (Entra answered AADSTS65001). Send them the "
            "admin-consent link, or open it yourself if you hold an administrator role there."
        )
    if refused.reason == TenantRefused.NOT_FOUND:
        return f"There is no tenant {name}: check the tenant id or domain."
    return (
        f"Your account has no access to {name}: Entra says it does not exist in that tenant, "
        "or the delegated admin (GDAP) relationship that gave you access has expired. Ask your "
        "partner administrator to renew the relationship, or the tenant's administrator to "
        "invite you as a guest."
    )


def tenant_refusal_status(refused: TenantRefused) -> int:
    return 404 if refused.reason == TenantRefused.NOT_FOUND else 403


def tenant_consent_link(request: HttpRequest, refused: TenantRefused) -> str:
    """The admin-consent link for a tenant that needs it, coming back to the tenants page."""
    if refused.reason != TenantRefused.CONSENT_REQUIRED:
        return ""
    return admin_consent_url(
        refused.tenant_id, request.build_absolute_uri(reverse("tenants:consented"))
    )


def _tenant_refused_response(request: HttpRequest, refused: TenantRefused) -> HttpResponse:
    message = tenant_refusal_message(request, refused)
    status = tenant_refusal_status(refused)
    if getattr(request, "htmx", False):
        return _error_response(request, message, status=status)
    response = render(
        request,
        "dashboard/tenant_refused.html",
        {
            "title": "This tenant refused access",
            "message": message,
            "consent_url": tenant_consent_link(request, refused),
            "tenant_id": refused.tenant_id,
            "detail": refused.detail,
        },
        status=status,
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


def fault_response(request: HttpRequest, fault: Exception) -> HttpResponse | None:
    """The page or htmx answer to a Graph fault, a domain refusal or a tenant's refusal; None
    for anything else."""
    if isinstance(fault, TenantRefused):
        return _tenant_refused_response(request, fault)
    if isinstance(fault, GraphError):
        return graph_fault_response(request, fault)
    if isinstance(fault, Refusal):
        return _error_response(request, fault.message, status=fault.status)
    return None


def graph_fault_response(request: HttpRequest, error: GraphError) -> HttpResponse:
    if isinstance(error, GraphAuthError):
        # Scopes beyond the sign-in's: incremental consent (e.g. the App Proxy pages).
        extra = [scope for scope in error.scopes if scope not in settings.GRAPH_SCOPES]
        return sign_in_again(request, scopes=extra)
    response = _error_response(request, graph_fault_message(error), status=fault_status(error))
    if isinstance(error, GraphThrottled) and error.retry_after:
        response["Retry-After"] = str(max(1, round(error.retry_after)))
    return response


def _error_response(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    response = _error_body(request, message, status=status)
    # The same URL answers a page or a bare toast depending on HX-Request.
    patch_vary_headers(response, ("HX-Request",))
    return response


def _error_body(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    if getattr(request, "htmx", False):
        # No swap (base.html swaps only 2xx, 409 and 422), so what the user typed stays on screen.
        response = HttpResponse(status=status)
        trigger_client_event(
            response, "toasts", {"toasts": [{"level": "error", "message": message}]}
        )
        return response
    title = (
        "Could not load this page"
        if request.method in {"GET", "HEAD"}
        else "The change was not made"
    )
    return render(
        request,
        "dashboard/graph_error.html",
        {"title": title, "message": message, "back": _current_page(request)},
        status=status,
    )


def sign_in_again(request: HttpRequest, *, scopes: Sequence[str] = ()) -> HttpResponse:
    """Through sign-in (asking for `scopes` too, if any), then back to the page the user was on.

    For htmx that is the page, not the fragment's URL; after a POST it is the page the form was
    on (a GET of the POST's URL would only answer 405).
    """
    if getattr(request, "htmx", False):
        current = request.htmx.current_url_abs_path or request.get_full_path()
        return HttpResponseClientRedirect(_with_scopes(redirect_to_login(current), scopes).url)
    if request.method in {"GET", "HEAD"}:
        return _with_scopes(redirect_to_login(request.get_full_path()), scopes)
    return _with_scopes(redirect_to_login(_referring_page(request)), scopes)


def _with_scopes(response: HttpResponseRedirect, scopes: Sequence[str]) -> HttpResponseRedirect:
    if scopes:
        response["Location"] += "&" + urlencode({"scopes": " ".join(scopes)})
    return response


def _current_page(request: HttpRequest) -> str:
    return (
        request.get_full_path() if request.method in {"GET", "HEAD"} else _referring_page(request)
    )


def _referring_page(request: HttpRequest) -> str:
    referer = request.headers.get("Referer", "")
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}
    ):
        return "/"
    return urlsplit(referer)._replace(scheme="", netloc="").geturl()


def sign_in_error_response(request: HttpRequest, error: SignInError) -> HttpResponse:
    """A sign-in that could not complete (the dashboard's own, or the watch's): what happened."""
    return render(
        request,
        "dashboard/sign_in_error.html",
        {"title": error.title, "message": error.message},
        status=error.status,
    )

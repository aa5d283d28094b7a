"""The watch page, and turning the watch on (a dedicated sign-in) or off (revoking it)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from audit.services import Actor
from kernel import identity
from kernel.faults import sign_in_error_response
from kernel.roles import Role, role_required
from watch import credentials, selectors, sweeps, tasks


@require_GET
def watch_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "watch/page.html",
        {
            "watch": selectors.watch_overview(),
            "refresh_seconds": settings.WATCH_PAGE_REFRESH_SECONDS,
        },
    )


@require_POST
@role_required(Role.ADMIN)
def watch_sign_in(request: HttpRequest) -> HttpResponse:
    """Start the watch's own sign-in (offline access), apart from the browser session's."""
    try:
        auth_uri = identity.start_background_sign_in(
            request.session,
            redirect_uri=request.build_absolute_uri(reverse("watch:callback")),
            scopes=settings.WATCH_GRAPH_SCOPES,
        )
    except identity.SignInError as error:
        return sign_in_error_response(request, error)
    return HttpResponseRedirect(auth_uri)


@never_cache
@require_GET
@role_required(Role.ADMIN)
def watch_callback(request: HttpRequest) -> HttpResponse:
    try:
        delegation = identity.complete_background_sign_in(request.session, request.GET.dict())
    except identity.SignInError as error:
        return sign_in_error_response(request, error)
    credential = credentials.enable(actor=Actor.from_request(request), delegation=delegation)
    messages.success(request, f"The watch is on, acting as {credential.upn}.")
    return redirect("watch:page")


@require_POST
@role_required(Role.ADMIN)
def watch_revoke(request: HttpRequest) -> HttpResponse:
    revoked = credentials.revoke(actor=Actor.from_request(request))
    if revoked is None:
        messages.info(request, "The watch had no credentials to revoke.")
    else:
        messages.success(request, f"Revoked the watch's credentials (it acted as {revoked.upn}).")
    return redirect("watch:page")


@require_POST
@role_required(Role.OPERATOR)
def sweep_all(request: HttpRequest) -> HttpResponse:
    """Sweep every watched tenant now, spread over WATCH_SWEEP_ALL_SPREAD_SECONDS (reads only:
    nothing to audit)."""
    if not sweeps.watch_is_on():
        messages.error(request, "The watch is off: an Admin signs in for it first.")
        return redirect("watch:page")
    tenants = [item.tenant for item in sweeps.watched_tenants()]
    if not tenants:
        messages.info(request, "No tenant is watched: add or discover tenants first.")
        return redirect("watch:page")
    try:
        sweeps.send_now(
            tenants,
            send=tasks.sweep_tenant.apply_async,
            spread_seconds=settings.WATCH_SWEEP_ALL_SPREAD_SECONDS,
        )
    except Exception as exc:  # kombu raises transport-specific errors
        messages.error(request, f"Could not send the sweeps to the broker: {exc}")
        return redirect("watch:page")
    messages.success(
        request,
        f"Sweeping {len(tenants)} tenant{'s' if len(tenants) != 1 else ''} now, spread over "
        f"{settings.WATCH_SWEEP_ALL_SPREAD_SECONDS:g} seconds: each row below updates as its "
        "sweep finishes.",
    )
    return redirect("watch:page")

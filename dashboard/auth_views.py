"""Sign-in, the identity provider's callback, and sign-out (views over kernel.identity)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from dashboard.models import User
from kernel import identity
from kernel.faults import sign_in_error_response
from kernel.roles import role_from_claims


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("overview")


@login_not_required
@never_cache
@require_GET
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.GET.get("next"))
    # Incremental consent: only permissions the dashboard asks for later, never others.
    scopes = [
        scope
        for scope in request.GET.get("scopes", "").split()
        if scope in settings.APP_PROXY_GRAPH_SCOPES or scope in settings.TENANTS_GRAPH_SCOPES
    ]
    try:
        auth_uri = identity.start_sign_in(
            request.session,
            redirect_uri=request.build_absolute_uri(reverse("auth:callback")),
            next_url=next_url,
            **({"scopes": scopes, "prompt": "consent"} if scopes else {}),
        )
    except identity.SignInError as error:
        return sign_in_error_response(request, error)
    return HttpResponseRedirect(auth_uri)


@login_not_required
@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    try:
        signed_in = identity.complete_sign_in(request.session, request.GET.dict())
    except identity.SignInError as error:
        return sign_in_error_response(request, error)
    claims = signed_in.claims
    user = User.objects.upsert_from_claims(claims, role_from_claims(claims.get("roles", [])))
    next_url = identity.pop_next_url(request.session)
    # login() cycles the session key; the token cache and account id stay in the session.
    login(request, user)
    return redirect(_safe_next(request, next_url))


@login_not_required
@never_cache
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    end_session = identity.sign_out(request.session)
    logout(request)
    post_logout = request.build_absolute_uri(reverse("auth:sign-in"))
    separator = "&" if "?" in end_session else "?"
    query = urlencode({"post_logout_redirect_uri": post_logout})
    return HttpResponseRedirect(f"{end_session}{separator}{query}")

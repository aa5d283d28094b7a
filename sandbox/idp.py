"""The sandbox's OpenID Connect endpoints, shaped like Entra ID's v2.0 endpoints."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox import consent, device_code, on_behalf_of, reply_urls, tenants, tokens
from sandbox.directory import DEMO_USERS, demo_user
from sandbox.models import AuthorizationCode, RefreshToken, Tenant
from sandbox.oauth import OIDC_SCOPES, oauth_error, token_response


def code_lifetime() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "SANDBOX_CODE_LIFETIME", 600)))


def _browser_url(request: HttpRequest, name: str, tenant: str) -> str:
    """Where a browser reaches an endpoint.

    In-process requests come from the dashboard's own server code, not a browser: the browser
    reaches the sandbox under /sandbox/ on the dashboard's host, so the URL stays relative to it.
    """
    if request.META.get("sandbox.in_process"):
        return reverse(f"sandbox:{name}", args=[tenant], urlconf=settings.ROOT_URLCONF)
    return request.build_absolute_uri(reverse(f"sandbox:{name}", args=[tenant]))


@login_not_required
@require_GET
def openid_configuration(request: HttpRequest, tenant: str) -> JsonResponse:
    directory = tenants.lookup(tenant)
    if directory is None:
        return tenants.unknown_tenant(tenant)
    return JsonResponse(
        {
            # Like Entra's: the tenant's id, however the authority named it (id or domain).
            "issuer": tokens.issuer(directory.id),
            "authorization_endpoint": _browser_url(request, "authorize", tenant),
            "token_endpoint": request.build_absolute_uri(reverse("sandbox:token", args=[tenant])),
            "jwks_uri": request.build_absolute_uri(reverse("sandbox:jwks", args=[tenant])),
            "device_authorization_endpoint": request.build_absolute_uri(
                reverse("sandbox:devicecode", args=[tenant])
            ),
            "end_session_endpoint": _browser_url(request, "logout", tenant),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                device_code.GRANT_TYPE,
                on_behalf_of.GRANT_TYPE,
            ],
            "scopes_supported": sorted(OIDC_SCOPES),
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nonce",
                "oid",
                "tid",
                "name",
                "preferred_username",
                "roles",
            ],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "sandbox.localhost",
        }
    )


@login_not_required
@require_GET
def jwks(request: HttpRequest, tenant: str) -> JsonResponse:
    return JsonResponse(tokens.jwks())


def _redirect_with(redirect_uri: str, params: dict[str, str]) -> HttpResponseRedirect:
    separator = "&" if urlsplit(redirect_uri).query else "?"
    response = HttpResponseRedirect(f"{redirect_uri}{separator}{urlencode(params)}")
    response["Cache-Control"] = "no-store"
    return response


def _authorize_page_error(request: HttpRequest, message: str, title: str = "") -> HttpResponse:
    context = {"message": message, "title": title}
    return render(request, "sandbox/authorize_error.html", context, status=400)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest, tenant: str) -> HttpResponse:
    params = request.GET
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    state = params.get("state", "")
    if not client_id:
        return _authorize_page_error(
            request,
            "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
        )
    if urlsplit(redirect_uri).scheme not in {"http", "https"}:
        return _authorize_page_error(
            request, "AADSTS50011: The redirect URI specified in the request is missing or invalid."
        )
    if not reply_urls.is_registered(redirect_uri):
        # Never sent there, not even with an error: that would be an open redirect.
        return _authorize_page_error(request, reply_urls.mismatch_message(redirect_uri, client_id))

    def fail(error: str, description: str) -> HttpResponseRedirect:
        return _redirect_with(
            redirect_uri, {"error": error, "error_description": description, "state": state}
        )

    if params.get("response_type") != "code":
        return fail("unsupported_response_type", "AADSTS700054: response_type must be 'code'.")
    if not params.get("code_challenge") or params.get("code_challenge_method") != "S256":
        return fail(
            "invalid_request",
            "AADSTS9002325: Proof Key for Code Exchange (S256) is required.",
        )
    if params.get("prompt") == "none":
        return fail(
            "login_required",
            "AADSTS50058: A silent sign-in request was sent but no user is signed in.",
        )

    if request.method == "GET":
        return render(
            request,
            "sandbox/authorize.html",
            {
                "users": DEMO_USERS,
                "login_hint": params.get("login_hint", ""),
                "tenant": tenant,
                "client_id": client_id,
                "scopes": params.get("scope", "").split(),
            },
        )
    if "cancel" in request.POST:
        return fail("access_denied", "AADSTS65004: User declined to consent to access the app.")
    user = demo_user(request.POST.get("username", ""))
    if user is None:
        return render(
            request,
            "sandbox/authorize.html",
            {
                "users": DEMO_USERS,
                "error": "Choose one of the demo users.",
                "tenant": tenant,
                "client_id": client_id,
                "scopes": params.get("scope", "").split(),
            },
            status=400,
        )
    if consent_screen := consent.ask(request, user=user, client_id=client_id, tenant=tenant):
        return consent_screen
    code = tokens.new_secret()
    AuthorizationCode.objects.create(
        code_hash=tokens.token_hash(code),
        client_id=client_id,
        redirect_uri=redirect_uri,
        code_challenge=params["code_challenge"],
        nonce=params.get("nonce", ""),
        scope=params.get("scope", ""),
        upn=user.upn,
        expires_at=timezone.now() + code_lifetime(),
    )
    return _redirect_with(
        redirect_uri, {"code": code, "state": state, "session_state": str(uuid.uuid4())}
    )


def _pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return secrets.compare_digest(computed, challenge)


@login_not_required
@csrf_exempt
@require_POST
def token(request: HttpRequest, tenant: str) -> JsonResponse:
    form = request.POST
    grant_type = form.get("grant_type", "")
    client_id = form.get("client_id", "")
    if not client_id:
        return oauth_error(
            "invalid_request",
            "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
        )
    directory = tenants.lookup(tenant)
    if directory is None:
        return tenants.unknown_tenant(tenant)
    if grant_type == "authorization_code":
        return _redeem_code(request, directory, form, client_id)
    if grant_type == "refresh_token":
        return _redeem_refresh_token(request, directory, form, client_id)
    if grant_type == device_code.GRANT_TYPE:
        return device_code.redeem(directory, form, client_id)
    if grant_type == on_behalf_of.GRANT_TYPE:
        return on_behalf_of.redeem(directory, form, client_id)
    return oauth_error(
        "unsupported_grant_type",
        f"AADSTS70003: The app requested an unsupported grant type '{grant_type}'.",
    )


def _redeem_code(request: HttpRequest, tenant: Tenant, form: Any, client_id: str) -> JsonResponse:
    with transaction.atomic():
        code = (
            AuthorizationCode.objects.select_for_update()
            .filter(code_hash=tokens.token_hash(form.get("code", "")))
            .first()
        )
        if code is None or code.client_id != client_id:
            return oauth_error(
                "invalid_grant", "AADSTS9002313: Invalid request. Request is malformed or invalid."
            )
        if code.redeemed_at is not None:
            return oauth_error(
                "invalid_grant",
                "AADSTS54005: OAuth2 Authorization code was already redeemed, "
                "please retry with a new valid code or use an existing refresh token.",
            )
        code.redeemed_at = timezone.now()
        code.save(update_fields=["redeemed_at"])
    if code.expires_at <= timezone.now():
        return oauth_error(
            "invalid_grant",
            "AADSTS70008: The provided authorization code or refresh token has "
            "expired due to inactivity. Send a new interactive authorization request.",
        )
    if form.get("redirect_uri", "") != code.redirect_uri:
        return oauth_error(
            "invalid_grant",
            "AADSTS500112: The reply address does not match the reply address "
            "provided when requesting the authorization code.",
        )
    if not _pkce_matches(form.get("code_verifier", ""), code.code_challenge):
        return oauth_error(
            "invalid_grant",
            "AADSTS501481: The Code_Verifier does not match the code_challenge "
            "supplied in the authorization request.",
        )
    user = demo_user(code.upn)
    assert user is not None
    if refusal := tenants.token_refusal(tenant, user, client_id):
        return refusal
    return token_response(
        tenant=tenant.id, user=user, client_id=client_id, scope=code.scope, nonce=code.nonce
    )


def _redeem_refresh_token(
    request: HttpRequest, tenant: Tenant, form: Any, client_id: str
) -> JsonResponse:
    with transaction.atomic():
        stored = (
            RefreshToken.objects.select_for_update()
            .filter(token_hash=tokens.token_hash(form.get("refresh_token", "")))
            .first()
        )
        if (
            stored is None
            or stored.client_id != client_id
            or stored.revoked_at is not None
            or stored.expires_at <= timezone.now()
        ):
            return oauth_error(
                "invalid_grant",
                "AADSTS700082: The refresh token has expired or was revoked. Sign in again.",
            )
        # Refused before the rotation: the refresh token still serves what was consented. Work
        # accounts' refresh tokens are not bound to a tenant: redeemed at a customer's authority,
        # the customer's own rules apply (the user's access there, the admin's consent).
        user = demo_user(stored.upn)
        assert user is not None
        refusal = (
            consent.refresh_refusal(stored.upn, client_id, form.get("scope", ""))
            if tenant.is_partner
            else tenants.token_refusal(tenant, user, client_id)
        )
        if refusal:
            return refusal
        stored.revoked_at = timezone.now()  # rotated: each refresh token works once
        stored.save(update_fields=["revoked_at"])
    scope = form.get("scope", "") or stored.scope
    return token_response(tenant=tenant.id, user=user, client_id=client_id, scope=scope)


@login_not_required
@never_cache
@require_GET
def logout(request: HttpRequest, tenant: str) -> HttpResponse:
    target = request.GET.get("post_logout_redirect_uri", "")
    if not target:
        return render(request, "sandbox/signed_out.html", status=200)
    if not reply_urls.is_registered(target):
        return _authorize_page_error(
            request,
            reply_urls.mismatch_message(target, request.GET.get("client_id", "")),
            title="Sign-out request refused",
        )
    return HttpResponseRedirect(target)

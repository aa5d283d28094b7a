"""The device code flow (RFC 8628) as Entra runs it: a script asks for a code, a person enters
it on the device page and picks a demo user, the script's polling then gets the tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from sandbox import tenants, tokens
from sandbox.directory import DEMO_USERS, demo_user
from sandbox.models import DeviceCode, Tenant
from sandbox.oauth import InvalidScope, oauth_error, requested_resource, token_response

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
LIFETIME = timedelta(minutes=15)
POLL_INTERVAL_SECONDS = 1
# No 0/O or 1/I: a person copies this code by hand.
USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(9))


@login_not_required
@csrf_exempt
@require_POST
def device_authorization(request: HttpRequest, tenant: str) -> JsonResponse:
    client_id = request.POST.get("client_id", "")
    scope = request.POST.get("scope", "")
    if not client_id:
        return oauth_error(
            "invalid_request",
            "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
        )
    try:
        requested_resource(scope)
    except InvalidScope as exc:
        return oauth_error("invalid_scope", str(exc))
    device_code = tokens.new_secret()
    user_code = _user_code()
    DeviceCode.objects.create(
        device_code_hash=tokens.token_hash(device_code),
        user_code=user_code,
        client_id=client_id,
        scope=scope,
        expires_at=timezone.now() + LIFETIME,
    )
    verification_uri = request.build_absolute_uri(reverse("sandbox:deviceauth", args=[tenant]))
    return JsonResponse(
        {
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": verification_uri,
            "expires_in": int(LIFETIME.total_seconds()),
            "interval": POLL_INTERVAL_SECONDS,
            "message": (
                f"To sign in, use a web browser to open the page {verification_uri} and enter "
                f"the code {user_code} to authenticate."
            ),
        }
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def device_page(request: HttpRequest, tenant: str) -> HttpResponse:
    """Where the person enters the code and chooses who signs in (or declines)."""
    context: dict[str, Any] = {"users": DEMO_USERS, "tenant": tenant}
    if request.method == "GET":
        return render(request, "sandbox/device.html", context)
    code = request.POST.get("user_code", "").strip().upper().replace("-", "")
    context["user_code"] = code
    pending = DeviceCode.objects.filter(
        user_code=code, expires_at__gt=timezone.now(), approved_upn="", declined=False
    ).first()
    if pending is None:
        context["error"] = "That code is unknown, expired or already used. Check it and retry."
        return render(request, "sandbox/device.html", context, status=400)
    if "cancel" in request.POST:
        pending.declined = True
        pending.save(update_fields=["declined"])
        return render(request, "sandbox/device_done.html", {"declined": True})
    user = demo_user(request.POST.get("username", ""))
    if user is None:
        context["error"] = "Choose one of the demo users."
        return render(request, "sandbox/device.html", context, status=400)
    pending.approved_upn = user.upn
    pending.save(update_fields=["approved_upn"])
    return render(
        request, "sandbox/device_done.html", {"user": user, "client_id": pending.client_id}
    )


def _authorization_pending() -> JsonResponse:
    return oauth_error(
        "authorization_pending",
        "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
    )


def redeem(tenant: Tenant, form: Any, client_id: str) -> JsonResponse:
    """The script's polling: pending until the person approves, then tokens, once."""
    pending = DeviceCode.objects.filter(
        device_code_hash=tokens.token_hash(form.get("device_code", ""))
    ).first()
    still_waiting = (
        pending is not None
        and not (pending.approved_upn or pending.declined)
        and pending.client_id == client_id
        and pending.expires_at > timezone.now()
    )
    if still_waiting:
        # The common answer while a person reads the code: no write, so no lock on the table.
        return _authorization_pending()
    with transaction.atomic():
        pending = (
            DeviceCode.objects.select_for_update()
            .filter(device_code_hash=tokens.token_hash(form.get("device_code", "")))
            .first()
        )
        if pending is None or pending.client_id != client_id or pending.redeemed_at:
            return oauth_error("invalid_grant", "AADSTS70000: The device code is not valid.")
        if pending.expires_at <= timezone.now():
            return oauth_error(
                "expired_token",
                "AADSTS70020: The provided value for the input "
                "parameter 'device_code' is not valid. This device code has expired.",
            )
        if pending.declined:
            return oauth_error("authorization_declined", "AADSTS70016: The user declined.")
        if not pending.approved_upn:
            return _authorization_pending()
        pending.redeemed_at = timezone.now()
        pending.save(update_fields=["redeemed_at"])
    user = demo_user(pending.approved_upn)
    assert user is not None
    if refusal := tenants.token_refusal(tenant, user, client_id):
        return refusal
    return token_response(tenant=tenant.id, user=user, client_id=client_id, scope=pending.scope)

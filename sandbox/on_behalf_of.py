"""The On-Behalf-Of grant: an API trades the token a caller sent it for a Graph token for the
same user (the jwt-bearer grant with `requested_token_use=on_behalf_of`)."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse

from sandbox import tokens
from sandbox.directory import demo_user_by_oid
from sandbox.oauth import oauth_error, token_response

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def redeem(tenant: str, form: Any, client_id: str) -> JsonResponse:
    if form.get("requested_token_use") != "on_behalf_of":
        return oauth_error(
            "invalid_request", "AADSTS70003: requested_token_use must be on_behalf_of."
        )
    try:
        claims = tokens.validate_assertion(
            form.get("assertion", ""), tenant_id=tenant, audience=client_id
        )
    except tokens.InvalidToken as exc:
        return oauth_error("invalid_grant", str(exc))
    user = demo_user_by_oid(claims["oid"])
    if user is None:
        return oauth_error("invalid_grant", "AADSTS50034: The user account does not exist.")
    return token_response(
        tenant=tenant,
        user=user,
        client_id=client_id,
        scope=form.get("scope", ""),
    )

"""The On-Behalf-Of grant: an API trades the token a caller sent it for a Graph token for the
same user (the jwt-bearer grant with `requested_token_use=on_behalf_of`)."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse

from sandbox import tenants, tokens
from sandbox.directory import demo_user_by_oid
from sandbox.models import Tenant
from sandbox.oauth import oauth_error, token_response
from sandbox.scope import home_tenant_id

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def redeem(tenant: Tenant, form: Any, client_id: str) -> JsonResponse:
    if form.get("requested_token_use") != "on_behalf_of":
        return oauth_error(
            "invalid_request", "AADSTS70003: requested_token_use must be on_behalf_of."
        )
    try:
        claims = tokens.validate_assertion(
            # The caller's token comes from its home tenant, whichever tenant Graph is wanted for.
            form.get("assertion", ""),
            tenant_id=home_tenant_id(),
            audience=client_id,
        )
    except tokens.InvalidToken as exc:
        return oauth_error("invalid_grant", str(exc))
    user = demo_user_by_oid(claims["oid"])
    if user is None:
        return oauth_error("invalid_grant", "AADSTS50034: The user account does not exist.")
    if refusal := tenants.token_refusal(tenant, user, client_id):
        return refusal
    return token_response(
        tenant=tenant.id,
        user=user,
        client_id=client_id,
        scope=form.get("scope", ""),
    )

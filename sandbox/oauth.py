"""What every grant of the sandbox's token endpoint shares: Entra-shaped errors, scopes, tokens."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.http import JsonResponse
from django.utils import timezone

from sandbox import tokens
from sandbox.directory import DemoUser
from sandbox.models import RefreshToken
from sandbox.scope import home_tenant_id

GRAPH_RESOURCE = "https://graph.microsoft.com/"
OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
REFRESH_TOKEN_LIFETIME = timedelta(days=90)


def oauth_error(error: str, description: str, status: int = 400) -> JsonResponse:
    """An error as Entra's token endpoint answers it (AADSTS code in the description)."""
    return JsonResponse(
        {
            "error": error,
            "error_description": description,
            "error_codes": [int(description[6:].split(":")[0])]
            if description.startswith("AADSTS")
            else [],
            "timestamp": timezone.now().strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        },
        status=status,
    )


def consent_required(client_id: str) -> JsonResponse:
    """AADSTS65001: no one consented to the application (the user, or the tenant's admin)."""
    response = oauth_error(
        "invalid_grant",
        f"AADSTS65001: The user or administrator has not consented to use the application "
        f"with ID '{client_id}'. Send an interactive authorization request for this user and "
        "resource.",
    )
    # Entra adds `suberror`; MSAL reports it as the error's classification.
    body = {**json.loads(response.content), "suberror": "consent_required"}
    return JsonResponse(body, status=response.status_code)


class InvalidScope(ValueError):
    pass


@dataclass(frozen=True)
class Resource:
    """The one resource a token request is for: Graph, or an app's own API (`api://…`)."""

    audience: str
    scopes: tuple[str, ...]  # short names, as they go in the token's `scp`
    requested: tuple[str, ...]  # as the client asked, as they go back in the answer's `scope`

    @property
    def is_graph(self) -> bool:
        return self.audience == tokens.GRAPH_AUDIENCE


def requested_resource(scope: str) -> Resource:
    """Split `scope` into its resource and permissions; Entra issues a token for one resource."""
    requested = tuple(item for item in scope.split() if item not in OIDC_SCOPES)
    audiences: dict[str, list[str]] = {}
    for item in requested:
        if item.startswith("api://"):
            audience, _, name = item.removeprefix("api://").partition("/")
        else:
            audience, name = tokens.GRAPH_AUDIENCE, item.removeprefix(GRAPH_RESOURCE)
        audiences.setdefault(audience, []).append(name)
    if len(audiences) > 1:
        raise InvalidScope(
            "AADSTS28000: Provided value for the input parameter scope is not valid because it "
            "contains more than one resource."
        )
    if not audiences:
        return Resource(tokens.GRAPH_AUDIENCE, (), ())
    [(audience, names)] = audiences.items()
    return Resource(audience, tuple(names), requested)


def token_response(
    *,
    tenant: str,
    user: DemoUser,
    client_id: str,
    scope: str,
    nonce: str = "",
) -> JsonResponse:
    """Tokens for `user`: an access token for the scope's resource, a refresh token (rotated on
    use), an ID token and client_info."""
    try:
        resource = requested_resource(scope)
    except InvalidScope as exc:
        return oauth_error("invalid_scope", str(exc))
    refresh = tokens.new_secret()
    RefreshToken.objects.create(
        token_hash=tokens.token_hash(refresh),
        client_id=client_id,
        upn=user.upn,
        scope=scope,
        expires_at=timezone.now() + REFRESH_TOKEN_LIFETIME,
    )
    lifetime = tokens.access_token_lifetime()
    if resource.is_graph:
        access_token = tokens.graph_access_token(
            user=user, tenant_id=tenant, client_id=client_id, scopes=list(resource.scopes)
        )
    else:
        access_token = tokens.api_access_token(
            user=user,
            tenant_id=tenant,
            client_id=client_id,
            audience=resource.audience,
            scopes=list(resource.scopes),
        )
    body = {
        "token_type": "Bearer",
        "scope": " ".join(resource.requested),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
        "refresh_token": refresh,
        "id_token": tokens.id_token(user=user, tenant_id=tenant, client_id=client_id, nonce=nonce),
        # The user's home tenant, whichever tenant the tokens are for (utid is where the account
        # lives: the demo users live in the partner tenant).
        "client_info": tokens.client_info(user=user, tenant_id=home_tenant_id()),
    }
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response

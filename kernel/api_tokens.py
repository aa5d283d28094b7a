"""Access tokens for the dashboard's own API, checked against the tenant's published keys.

A script signs in (device code flow, for instance) and asks the tenant for a token with the
audience of the dashboard's app registration and the scope `access_as_user`. The signing keys and
the issuer come from the authority's OpenID configuration, fetched through the outbound session
and kept for an hour (again at once for a key id not seen yet: keys roll over).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from django.conf import settings

from graph.outbound import outbound_session

API_SCOPE = "access_as_user"
KEYS_MAX_AGE_SECONDS = 3600


class InvalidApiToken(Exception):
    """The bearer token is not one this API accepts; the message says why."""


@dataclass(frozen=True)
class ApiCredential:
    """What DRF keeps in `request.auth` for a bearer request: the token and its claims."""

    token: str
    claims: dict[str, Any]


@dataclass
class _TenantKeys:
    issuer: str
    keys: dict[str, Any]
    fetched_at: float


_cache: dict[str, _TenantKeys] = {}


def api_audiences() -> list[str]:
    """Entra's v2.0 tokens carry the client id; v1.0 tokens the App ID URI."""
    return [settings.ENTRA_CLIENT_ID, f"api://{settings.ENTRA_CLIENT_ID}"]


def _tenant_keys(*, refresh: bool = False) -> _TenantKeys:
    authority = settings.ENTRA_AUTHORITY
    known = _cache.get(authority)
    if known and not refresh and time.monotonic() - known.fetched_at < KEYS_MAX_AGE_SECONDS:
        return known
    session = outbound_session()
    try:
        config = session.get(f"{authority}/v2.0/.well-known/openid-configuration").json()
        jwks = session.get(config["jwks_uri"]).json()
        keys = {key.key_id: key.key for key in jwt.PyJWKSet.from_dict(jwks).keys if key.key_id}
    except (requests.RequestException, ValueError, KeyError, jwt.PyJWTError) as exc:
        raise InvalidApiToken(
            "The tenant's signing keys could not be read, so no token can be checked."
        ) from exc
    _cache[authority] = _TenantKeys(issuer=config["issuer"], keys=keys, fetched_at=time.monotonic())
    return _cache[authority]


def _signing_key(kid: str) -> tuple[Any, str]:
    tenant = _tenant_keys()
    if kid not in tenant.keys:
        tenant = _tenant_keys(refresh=True)
    if kid not in tenant.keys:
        raise InvalidApiToken("The token is not signed by this tenant's keys.")
    return tenant.keys[kid], tenant.issuer


def validate_api_token(token: str) -> ApiCredential:
    """Signature (tenant keys), issuer, audience (this app), expiry and the API's scope."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidApiToken("The bearer token is not a JWT.") from exc
    key, issuer = _signing_key(header.get("kid", ""))
    try:
        # Audience and issuer are checked below, in that order, to say which one is wrong.
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            options={
                "require": ["exp", "aud", "iss", "oid", "tid"],
                "verify_aud": False,
                "verify_iss": False,
            },
            leeway=30,
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidApiToken("The token has expired.") from exc
    except jwt.InvalidSignatureError as exc:
        raise InvalidApiToken("The token's signature does not verify.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidApiToken(f"The token is not valid: {exc}.") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if not set(audiences) & set(api_audiences()):
        raise InvalidApiToken(
            "The token is for another audience; ask for one for this dashboard's API "
            f"(api://{settings.ENTRA_CLIENT_ID}/{API_SCOPE})."
        )
    if claims["iss"] != issuer:
        raise InvalidApiToken("The token was issued by another tenant.")
    if API_SCOPE not in str(claims.get("scp", "")).split():
        raise InvalidApiToken(f"The token lacks the {API_SCOPE} scope.")
    return ApiCredential(token=token, claims=claims)

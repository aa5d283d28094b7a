"""The sandbox's signing key, the JWTs it issues, and the validation Graph applies to them."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import IntegrityError, transaction
from jwt.algorithms import RSAAlgorithm

from sandbox.directory import DemoUser
from sandbox.models import SigningKey

GRAPH_AUDIENCE = "https://graph.microsoft.com"
GRAPH_AUDIENCES = frozenset({GRAPH_AUDIENCE, "00000003-0000-0000-c000-000000000000"})


def access_token_lifetime() -> int:
    return int(getattr(settings, "SANDBOX_ACCESS_TOKEN_LIFETIME", 3600))


def _signing_key() -> SigningKey:
    key = SigningKey.objects.order_by("created_at").first()
    if key is not None:
        return key
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    try:
        with transaction.atomic():
            return SigningKey.objects.create(kid=uuid.uuid4().hex, private_key_pem=pem)
    except IntegrityError:  # pragma: no cover - two first requests raced
        return SigningKey.objects.order_by("created_at").first()  # type: ignore[return-value]


def jwks() -> dict[str, Any]:
    keys = []
    for key in SigningKey.objects.order_by("created_at") or [_signing_key()]:
        public = _public_key(key)
        jwk = json.loads(RSAAlgorithm.to_jwk(public))
        keys.append({**jwk, "kid": key.kid, "use": "sig", "alg": "RS256"})
    return {"keys": keys}


@functools.lru_cache(maxsize=16)
def _private_key(kid: str, pem: str) -> rsa.RSAPrivateKey:
    """The parsed key (parsing checks the RSA key: tens of milliseconds, so once per key)."""
    return serialization.load_pem_private_key(pem.encode(), None)  # type: ignore[return-value]


def _public_key(key: SigningKey) -> rsa.RSAPublicKey:
    return _private_key(key.kid, key.private_key_pem).public_key()


def _sign(claims: dict[str, Any]) -> str:
    key = _signing_key()
    return jwt.encode(
        claims,
        _private_key(key.kid, key.private_key_pem),
        algorithm="RS256",
        headers={"kid": key.kid},
    )


def issuer(tenant_id: str) -> str:
    """The tenant's v2.0 issuer. Like Entra's, it does not depend on the host that served the
    request: tokens from `sandbox_serve` and from the in-process sandbox are interchangeable."""
    return f"{settings.SANDBOX_LOGIN_ORIGIN}/{tenant_id}/v2.0"


def id_token(*, user: DemoUser, tenant_id: str, client_id: str, nonce: str) -> str:
    now = int(time.time())
    claims = {
        "aud": client_id,
        "iss": issuer(tenant_id),
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "sub": hashlib.sha256(f"{user.oid}:{client_id}".encode()).hexdigest()[:43],
        "oid": user.oid,
        "tid": tenant_id,
        "preferred_username": user.upn,
        "name": user.name,
        "roles": list(user.roles),
        "ver": "2.0",
    }
    if nonce:
        claims["nonce"] = nonce
    return _sign(claims)


def graph_access_token(*, user: DemoUser, tenant_id: str, client_id: str, scopes: list[str]) -> str:
    now = int(time.time())
    granted = list(dict.fromkeys(_grantable(scope, user) for scope in scopes))
    granted = [scope for scope in granted if scope]
    return _sign(
        {
            "aud": GRAPH_AUDIENCE,
            "iss": f"https://sts.windows.net/{tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + access_token_lifetime(),
            "appid": client_id,
            "scp": " ".join(granted),
            "oid": user.oid,
            "tid": tenant_id,
            "upn": user.upn,
            "name": user.name,
            "uti": secrets.token_urlsafe(16),
            "ver": "1.0",
        }
    )


def api_access_token(
    *, user: DemoUser, tenant_id: str, client_id: str, audience: str, scopes: list[str]
) -> str:
    """A v2.0 access token for an app's own API (`api://<audience>/<scope>`), e.g. the
    dashboard's `access_as_user`; it carries the user's app roles like Entra's does."""
    now = int(time.time())
    return _sign(
        {
            "aud": audience,
            "iss": issuer(tenant_id),
            "iat": now,
            "nbf": now,
            "exp": now + access_token_lifetime(),
            "azp": client_id,
            "scp": " ".join(scopes),
            "oid": user.oid,
            "tid": tenant_id,
            "sub": hashlib.sha256(f"{user.oid}:{audience}".encode()).hexdigest()[:43],
            "preferred_username": user.upn,
            "name": user.name,
            "roles": list(user.roles),
            "uti": secrets.token_urlsafe(16),
            "ver": "2.0",
        }
    )


def validate_assertion(token: str, *, tenant_id: str, audience: str) -> dict[str, Any]:
    """Check a user assertion (On-Behalf-Of): this tenant's key, issuer, audience, expiry."""
    public = _key_that_signed(
        token,
        malformed="AADSTS50027: JWT token is invalid or malformed.",
        unknown="AADSTS50013: Assertion failed signature validation.",
    )
    try:
        return jwt.decode(
            token,
            public,
            algorithms=["RS256"],
            audience=[audience, f"api://{audience}"],
            issuer=issuer(tenant_id),
            options={"require": ["exp", "aud", "iss", "oid"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("AADSTS500133: Assertion is not within its valid time range.") from exc
    except jwt.InvalidAudienceError as exc:
        raise InvalidToken(
            "AADSTS50013: Assertion audience does not match the client app presenting it."
        ) from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"AADSTS50013: Assertion failed validation: {exc}.") from exc


def _grantable(scope: str, user: DemoUser) -> str:
    """The scope itself if the user holds it; a read-only user asking for X.ReadWrite.All gets
    X.Read.All (so it can read, and Graph refuses its writes); else nothing."""
    if scope in user.graph_scopes:
        return scope
    read_only = scope.replace(".ReadWrite.", ".Read.")
    return read_only if read_only in user.graph_scopes else ""


def client_info(*, user: DemoUser, tenant_id: str) -> str:
    raw = json.dumps({"uid": user.oid, "utid": tenant_id}).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class InvalidToken(Exception):
    pass


def _key_that_signed(token: str, *, malformed: str, unknown: str) -> rsa.RSAPublicKey:
    """The public key of the tenant key named in the token's header (`kid`)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(malformed) from exc
    key = SigningKey.objects.filter(kid=header.get("kid", "")).first()
    if key is None:
        raise InvalidToken(unknown)
    return _public_key(key)


def validate_graph_token(token: str) -> dict[str, Any]:
    """Verify a bearer token as Graph does: signature (JWKS), audience, expiry."""
    public = _key_that_signed(
        token,
        malformed="IDX14100: JWT is not well formed.",
        unknown="Signing key not found: the token was not issued by this tenant.",
    )
    try:
        return jwt.decode(
            token,
            public,
            algorithms=["RS256"],
            audience=list(GRAPH_AUDIENCES),
            options={"require": ["exp", "aud", "oid", "tid"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("Lifetime validation failed, the token is expired.") from exc
    except jwt.InvalidAudienceError as exc:
        raise InvalidToken("Invalid audience.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"Access token validation failure: {exc}.") from exc


def token_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(48)

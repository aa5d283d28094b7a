"""Who may call the API: bad credentials are a 401 with the reason, and reach no Graph."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.test import Client

from dashboard.models import User
from sandbox import tokens
from sandbox.directory import demo_user
from sandbox.models import SigningKey
from tests.conftest import ADMIN, READER
from tests.connectors.support import forget_graph_calls, graph_calls

pytestmark = pytest.mark.django_db
URL = "/api/v1/exchange-connectors/"
TENANT = settings.ENTRA_TENANT_ID


def api_token(**overrides) -> str:
    user = demo_user(ADMIN)
    assert user is not None
    arguments = {
        "user": user,
        "tenant_id": TENANT,
        "client_id": "script",
        "audience": settings.ENTRA_CLIENT_ID,
        "scopes": ["access_as_user"],
    }
    return tokens.api_access_token(**{**arguments, **overrides})


def forged_signature() -> str:
    """The right claims and key id, signed with a key that is not the tenant's."""
    genuine = jwt.decode(api_token(), options={"verify_signature": False})
    kid = SigningKey.objects.get().kid
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(genuine, other, algorithm="RS256", headers={"kid": kid})


def call(authorization: str | None) -> tuple[int, dict, str]:
    headers = {"Authorization": authorization} if authorization else {}
    response = Client(headers=headers).get(URL)
    return response.status_code, response.json(), response.get("WWW-Authenticate", "")


@pytest.mark.parametrize(
    ("make_header", "reason"),
    [
        (lambda: None, "Authentication credentials were not provided"),
        (lambda: "Bearer", "must be 'Bearer <token>'"),
        (lambda: "Bearer not-a-jwt", "not a JWT"),
        (lambda: f"Bearer {forged_signature()}", "signature does not verify"),
        (lambda: f"Bearer {api_token(audience='another-app')}", "another audience"),
        (lambda: f"Bearer {api_token(scopes=['Files.Read'])}", "lacks the access_as_user scope"),
        (
            lambda: (
                "Bearer "
                + tokens.graph_access_token(
                    user=demo_user(ADMIN), tenant_id=TENANT, client_id="x", scopes=["User.Read"]
                )
            ),
            "another audience",
        ),
    ],
    ids=[
        "none",
        "empty",
        "garbage",
        "wrong-signature",
        "wrong-audience",
        "no-scope",
        "graph-token",
    ],
)
def test_bad_credentials_are_401_with_a_reason_and_nothing_reaches_graph(
    make_header, reason
) -> None:
    header = make_header()
    forget_graph_calls()
    status, body, challenge = call(header)
    assert status == 401
    assert reason in body["message"]
    assert challenge.startswith("Bearer")
    assert graph_calls() == []
    assert not User.objects.exists()


def test_an_expired_token_is_refused(settings) -> None:
    settings.SANDBOX_ACCESS_TOKEN_LIFETIME = -120
    expired = api_token()
    status, body, _ = call(f"Bearer {expired}")
    assert status == 401 and "expired" in body["message"]


def test_a_token_from_another_issuer_is_refused() -> None:
    claims = jwt.decode(api_token(), options={"verify_signature": False})
    claims["iss"] = "https://login.microsoftonline.com/another-tenant/v2.0"
    key = SigningKey.objects.get()
    token = jwt.encode(
        claims,
        tokens._private_key(key.kid, key.private_key_pem),
        algorithm="RS256",
        headers={"kid": key.kid},
    )
    status, body, _ = call(f"Bearer {token}")
    assert status == 401 and "another tenant" in body["message"]


def test_the_users_role_comes_from_the_tokens_roles_claim() -> None:
    status, body, _ = call(f"Bearer {api_token(user=demo_user(READER))}")
    assert status == 200
    user = User.objects.get(upn=READER)
    assert user.role == "Dashboard.Reader"
    assert body["count"] == 0


def test_a_valid_token_with_no_expiry_claim_is_refused() -> None:
    claims = jwt.decode(api_token(), options={"verify_signature": False})
    claims.pop("exp")
    key = SigningKey.objects.get()
    token = jwt.encode(
        claims,
        tokens._private_key(key.kid, key.private_key_pem),
        algorithm="RS256",
        headers={"kid": key.kid},
    )
    status, body, _ = call(f"Bearer {token}")
    assert status == 401
    assert "exp" in body["message"]

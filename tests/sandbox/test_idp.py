"""The sandbox identity provider, spoken to as a plain OAuth client would (no MSAL)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from graph.outbound import outbound_session
from sandbox.models import AuthorizationCode, SigningKey
from tests.conftest import ADMIN, LIMITED

pytestmark = pytest.mark.django_db

AUTHORITY = settings.ENTRA_AUTHORITY
TOKEN_URL = f"{AUTHORITY}/oauth2/v2.0/token"
REDIRECT_URI = "http://testserver/auth/callback/"
GRAPH_WRITE = "https://graph.microsoft.com/DeviceManagementServiceConfig.ReadWrite.All"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(upn: str = ADMIN, *, challenge: str, nonce: str = "n-123") -> str:
    """Sign in on the sandbox's page (as a browser would) and return the code."""
    query = urlencode(
        {
            "client_id": "any-client",
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "scope": f"openid profile offline_access {GRAPH_WRITE}",
            "state": "s-1",
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    url = f"/sandbox/{settings.ENTRA_TENANT_ID}/oauth2/v2.0/authorize?{query}"
    response = Client().post(url, {"username": upn})
    assert response.status_code == 302
    redirected = parse_qs(urlsplit(response["Location"]).query)
    assert redirected["state"] == ["s-1"]
    return redirected["code"][0]


def redeem(code: str, verifier: str, redirect_uri: str = REDIRECT_URI) -> dict:
    response = outbound_session().post(
        TOKEN_URL,
        data={
            "grant_type": "authorization_code",
            "client_id": "any-client",
            "client_secret": "anything",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
            "scope": f"openid profile offline_access {GRAPH_WRITE}",
        },
    )
    return {"status": response.status_code, **response.json()}


def test_discovery_is_shaped_like_entra() -> None:
    config = outbound_session().get(f"{AUTHORITY}/v2.0/.well-known/openid-configuration").json()
    assert config["issuer"] == f"{AUTHORITY}/v2.0"
    assert config["token_endpoint"] == TOKEN_URL
    assert config["jwks_uri"] == f"{AUTHORITY}/discovery/v2.0/keys"
    assert config["authorization_endpoint"].endswith("/oauth2/v2.0/authorize")
    assert "S256" in config["code_challenge_methods_supported"]


def test_code_redeems_for_real_tokens_signed_with_the_published_key() -> None:
    verifier, challenge = pkce_pair()
    tokens = redeem(authorize(challenge=challenge, nonce="nonce-42"), verifier)
    assert tokens["status"] == 200
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["refresh_token"] and tokens["client_info"]
    jwks = outbound_session().get(f"{AUTHORITY}/discovery/v2.0/keys").json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    id_claims = jwt.decode(tokens["id_token"], key, algorithms=["RS256"], audience="any-client")
    assert id_claims["nonce"] == "nonce-42"
    assert id_claims["iss"] == f"{AUTHORITY}/v2.0"
    assert id_claims["preferred_username"] == ADMIN
    assert id_claims["roles"] == ["Dashboard.Admin"]
    assert {"sub", "oid", "tid", "name", "iat", "exp"} <= id_claims.keys()
    access = jwt.decode(
        tokens["access_token"], key, algorithms=["RS256"], audience="https://graph.microsoft.com"
    )
    assert access["scp"] == "DeviceManagementServiceConfig.ReadWrite.All"
    assert access["upn"] == ADMIN and access["tid"] == settings.ENTRA_TENANT_ID
    assert access["exp"] - access["iat"] == 3600


def test_limited_user_gets_only_read_scopes_in_its_access_token() -> None:
    verifier, challenge = pkce_pair()
    tokens = redeem(authorize(LIMITED, challenge=challenge), verifier)
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    # Asked for ReadWrite, a read-only user gets Read: it can look, and Graph refuses its writes.
    assert access["scp"] == "DeviceManagementServiceConfig.Read.All"


def test_wrong_code_verifier_is_invalid_grant() -> None:
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    tokens = redeem(authorize(challenge=challenge), other_verifier)
    assert tokens["status"] == 400
    assert tokens["error"] == "invalid_grant"
    assert tokens["error_codes"] == [501481]


def test_wrong_redirect_uri_is_invalid_grant() -> None:
    verifier, challenge = pkce_pair()
    tokens = redeem(authorize(challenge=challenge), verifier, "http://testserver/elsewhere/")
    assert tokens["status"] == 400
    assert tokens["error"] == "invalid_grant"
    assert tokens["error_codes"] == [500112]


def test_a_code_works_once() -> None:
    verifier, challenge = pkce_pair()
    code = authorize(challenge=challenge)
    assert redeem(code, verifier)["status"] == 200
    again = redeem(code, verifier)
    assert again["status"] == 400
    assert again["error"] == "invalid_grant"
    assert again["error_codes"] == [54005]


def test_an_expired_code_is_refused() -> None:
    verifier, challenge = pkce_pair()
    code = authorize(challenge=challenge)
    AuthorizationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    tokens = redeem(code, verifier)
    assert tokens["status"] == 400
    assert tokens["error"] == "invalid_grant"
    assert tokens["error_codes"] == [70008]


def test_refresh_tokens_rotate_and_work_once() -> None:
    verifier, challenge = pkce_pair()
    first = redeem(authorize(challenge=challenge), verifier)

    def refresh(token: str) -> dict:
        response = outbound_session().post(
            TOKEN_URL,
            data={"grant_type": "refresh_token", "client_id": "any-client", "refresh_token": token},
        )
        return {"status": response.status_code, **response.json()}

    second = refresh(first["refresh_token"])
    assert second["status"] == 200 and second["refresh_token"] != first["refresh_token"]
    reused = refresh(first["refresh_token"])
    assert reused["status"] == 400 and reused["error"] == "invalid_grant"


def test_unsupported_grant_type_is_named() -> None:
    response = outbound_session().post(
        TOKEN_URL, data={"grant_type": "password", "client_id": "any-client"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_authorize_without_pkce_redirects_with_invalid_request() -> None:
    query = urlencode(
        {"client_id": "c", "response_type": "code", "redirect_uri": REDIRECT_URI, "state": "s"}
    )
    response = Client().get(f"/sandbox/{settings.ENTRA_TENANT_ID}/oauth2/v2.0/authorize?{query}")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["invalid_request"]


def test_authorize_without_redirect_uri_is_an_error_page_not_a_redirect() -> None:
    url = f"/sandbox/{settings.ENTRA_TENANT_ID}/oauth2/v2.0/authorize?client_id=c"
    response = Client().get(url)
    assert response.status_code == 400
    assert "AADSTS50011" in response.content.decode()


def test_signing_key_is_generated_once_and_kept() -> None:
    verifier, challenge = pkce_pair()
    redeem(authorize(challenge=challenge), verifier)
    verifier, challenge = pkce_pair()
    redeem(authorize(challenge=challenge), verifier)
    assert SigningKey.objects.count() == 1


def authorize_url(redirect_uri: str, client_id: str = "any-client") -> str:
    verifier, challenge = pkce_pair()
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": "openid",
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"/sandbox/{settings.ENTRA_TENANT_ID}/oauth2/v2.0/authorize?{query}"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://attacker.example/auth/callback/",
        "http://testserver/elsewhere/",
        "http://testserver:8080/auth/callback/",  # not a loopback host: the port counts
        "https://testserver/auth/callback/",
        "http://testserver/auth/callback/#x",
    ],
)
def test_an_unregistered_redirect_uri_is_aadsts50011_and_never_followed(
    redirect_uri: str,
) -> None:
    url = authorize_url(redirect_uri)
    for response in (Client().get(url), Client().post(url, {"username": ADMIN})):
        assert response.status_code == 400
        html = response.content.decode()
        assert "AADSTS50011" in html and "any-client" in html
        assert "Location" not in response
    assert not AuthorizationCode.objects.exists()


@pytest.mark.parametrize(
    "redirect_uri",
    ["http://localhost:51234/auth/callback/", "http://127.0.0.1/auth/callback/"],
)
def test_a_loopback_reply_url_matches_on_any_port_as_in_entra(redirect_uri: str) -> None:
    response = Client().post(authorize_url(redirect_uri), {"username": ADMIN})
    assert response.status_code == 302
    assert response["Location"].startswith(f"{redirect_uri}?code=")


def test_the_reply_urls_are_a_setting(settings) -> None:
    settings.SANDBOX_REDIRECT_URIS = ["https://demo.contoso.com/auth/callback/"]
    allowed = Client().get(authorize_url("https://demo.contoso.com/auth/callback/"))
    refused = Client().get(authorize_url(REDIRECT_URI))
    assert allowed.status_code == 200  # the sign-in page (no user chosen yet)
    assert refused.status_code == 400 and "AADSTS50011" in refused.content.decode()


def logout(post_logout_redirect_uri: str | None) -> Any:
    url = f"/sandbox/{settings.ENTRA_TENANT_ID}/oauth2/v2.0/logout"
    query = {"post_logout_redirect_uri": post_logout_redirect_uri}
    return Client().get(url, query if post_logout_redirect_uri is not None else {})


def test_logout_sends_the_browser_only_to_a_registered_reply_url() -> None:
    assert logout("http://testserver/auth/sign-in/")["Location"] == (
        "http://testserver/auth/sign-in/"
    )
    refused = logout("https://attacker.example/phish")
    assert refused.status_code == 400 and "Location" not in refused
    assert "AADSTS50011" in refused.content.decode()
    signed_out = logout(None)
    assert signed_out.status_code == 200 and "Location" not in signed_out


def test_the_sign_in_form_keeps_csrf_protection() -> None:
    """The browser posts the chosen user: a post from another site without the token fails."""
    url = authorize_url(REDIRECT_URI)
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(url, {"username": ADMIN}).status_code == 403
    page = browser.get(url)
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    chosen = browser.post(url, {"username": ADMIN, "csrfmiddlewaretoken": token})
    assert chosen.status_code == 302 and "code=" in chosen["Location"]

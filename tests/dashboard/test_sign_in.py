"""Sign-in and sign-out through the real MSAL flow against the sandbox identity provider."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from dashboard.models import User
from sandbox.models import AuthorizationCode
from tests.conftest import ADMIN, READER, sign_in

pytestmark = pytest.mark.django_db


def start(client: Client, next_url: str = "/") -> str:
    """Begin a sign-in; returns the sandbox authorize URL the browser is sent to."""
    response = client.get("/auth/sign-in/", {"next": next_url})
    assert response.status_code == 302
    return response["Location"]


def choose_user(client: Client, authorize_url: str, upn: str = ADMIN) -> str:
    """Pick a demo user on the sandbox page; returns the callback URL with the code."""
    response = client.post(authorize_url, {"username": upn})
    assert response.status_code == 302
    return response["Location"]


def test_anonymous_page_request_is_sent_to_sign_in_with_next() -> None:
    response = Client().get("/?tab=1")
    assert response.status_code == 302
    assert response["Location"] == "/auth/sign-in/?next=/%3Ftab%3D1"


def test_sign_in_uses_the_authorization_code_flow_with_pkce() -> None:
    query = parse_qs(urlsplit(start(Client())).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0] and query["state"][0] and query["nonce"][0]
    assert query["client_id"] == [settings.ENTRA_CLIENT_ID]
    assert query["redirect_uri"] == ["http://testserver/auth/callback/"]


def test_sandbox_sign_in_page_lists_the_demo_users_with_their_roles() -> None:
    client = Client()
    page = client.get(start(client)).content.decode()
    for upn, role in [
        ("admin@sandbox.example", "Dashboard.Admin"),
        ("operator@sandbox.example", "Dashboard.Operator"),
        ("reader@sandbox.example", "Dashboard.Reader"),
        ("limited@sandbox.example", "Dashboard.Admin"),
    ]:
        assert upn in page
        assert role in page
    assert 'name="cancel"' in page


def test_whole_flow_lands_on_next_signed_in_as_the_chosen_user() -> None:
    client = Client()
    callback = choose_user(client, start(client, next_url="/healthz"), upn=ADMIN)
    response = client.get(callback)
    assert response.status_code == 302
    assert response["Location"] == "/healthz"
    overview = client.get("/").content.decode()
    assert "Ada Admin" in overview
    assert "Admin" in overview
    assert settings.ENTRA_TENANT_ID in overview
    user = User.objects.get(upn=ADMIN)
    assert user.oid == "a0000000-0000-4000-8000-000000000001"
    assert user.tenant_id == settings.ENTRA_TENANT_ID
    assert user.display_name == "Ada Admin"
    assert user.role == "Dashboard.Admin"


def test_sign_in_cycles_the_session_key() -> None:
    client = Client()
    authorize_url = start(client)
    key_before = client.cookies["sessionid"].value
    client.get(choose_user(client, authorize_url))
    assert client.cookies["sessionid"].value != key_before


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_next_pointing_off_site_is_ignored(next_url: str) -> None:
    client = Client()
    response = client.get(choose_user(client, start(client, next_url=next_url)))
    assert response["Location"] == "/"


def test_replayed_callback_is_refused_with_a_clear_page() -> None:
    client = Client()
    callback = choose_user(client, start(client))
    client.get(callback)
    replay = client.get(callback)
    assert replay.status_code == 400
    assert "already used" in replay.content.decode()


def test_callback_with_a_foreign_state_is_refused() -> None:
    client = Client()
    callback = choose_user(client, start(client))
    forged = callback.replace("state=", "state=forged")
    response = client.get(forged)
    assert response.status_code == 400
    assert "state mismatch" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_callback_without_a_sign_in_in_progress_is_refused() -> None:
    response = Client().get("/auth/callback/", {"code": "abc", "state": "xyz"})
    assert response.status_code == 400
    assert "does not belong to a sign-in in progress" in response.content.decode()


def test_nonce_mismatch_is_refused() -> None:
    client = Client()
    callback = choose_user(client, start(client))
    session = client.session
    flow = session["msal_auth_flow"]
    flow["nonce"] = "a-nonce-this-sign-in-never-sent"
    session["msal_auth_flow"] = flow
    session.save()
    response = client.get(callback)
    assert response.status_code == 400
    assert "nonce" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_cancel_on_the_sign_in_page_is_reported_as_access_denied() -> None:
    client = Client()
    response = client.post(start(client), {"cancel": "1"})
    assert "error=access_denied" in response["Location"]
    page = client.get(response["Location"])
    assert page.status_code == 400
    assert "cancelled or refused" in page.content.decode()
    assert "access_denied" in page.content.decode()


def test_consent_required_from_the_identity_provider_is_explained() -> None:
    client = Client()
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    response = client.get(
        "/auth/callback/",
        {
            "error": "consent_required",
            "error_description": "AADSTS65001: no consent",
            "state": state,
        },
    )
    assert response.status_code == 400
    assert "administrator must grant" in response.content.decode()


def test_token_endpoint_error_is_shown_not_a_500() -> None:
    client = Client()
    callback = choose_user(client, start(client))
    AuthorizationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(callback)
    assert response.status_code == 400
    assert "invalid_grant" in response.content.decode()
    assert "AADSTS70008" in response.content.decode()


def test_unreachable_identity_provider_is_a_503_page(settings) -> None:
    settings.ENTRA_AUTHORITY = "https://login.unreachable.invalid/contoso"
    response = Client().get("/auth/sign-in/")
    assert response.status_code == 503
    assert "cannot be reached" in response.content.decode()


def test_sign_out_ends_the_session_at_the_identity_provider_and_back_to_sign_in() -> None:
    client = sign_in(Client(), READER)
    old_cookie = client.cookies["sessionid"].value
    response = client.post("/auth/sign-out/")
    assert response.status_code == 302
    end_session = response["Location"]
    assert urlsplit(end_session).path.endswith("/oauth2/v2.0/logout")
    back = client.get(end_session)
    assert back["Location"] == "http://testserver/auth/sign-in/"
    # The old session cookie no longer grants access.
    replay = Client()
    replay.cookies["sessionid"] = old_cookie
    assert replay.get("/").status_code == 302


def test_sign_out_needs_post() -> None:
    client = sign_in(Client(), READER)
    assert client.get("/auth/sign-out/").status_code == 405
    assert client.get("/").status_code == 200


def test_user_row_follows_the_latest_sign_in(signed_in_client) -> None:
    signed_in_client(READER)
    User.objects.filter(upn=READER).update(display_name="Stale", role="Dashboard.Admin")
    signed_in_client(READER)
    user = User.objects.get(upn=READER)
    assert (user.display_name, user.role) == ("Rita Reader", "Dashboard.Reader")
    assert User.objects.filter(upn=READER).count() == 1

"""Tokens for Graph from the session's MSAL cache: silent renewal, and what happens without one."""

from __future__ import annotations

import jwt
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from kernel import identity
from sandbox.models import RefreshToken
from tests.conftest import ADMIN, sign_in

pytestmark = pytest.mark.django_db


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_cached_access_token_is_reused_while_valid() -> None:
    session = sign_in(Client(), ADMIN).session
    first = identity.acquire_token(session, settings.GRAPH_SCOPES)
    second = identity.acquire_token(session, settings.GRAPH_SCOPES)
    assert first == second
    assert RefreshToken.objects.filter(revoked_at__isnull=False).count() == 0


def test_expired_access_token_is_renewed_silently_with_the_refresh_token(settings) -> None:
    # MSAL treats a token expiring within five minutes as expired: a 60 s lifetime means the
    # next call must go back to the token endpoint with the refresh token.
    settings.SANDBOX_ACCESS_TOKEN_LIFETIME = 60
    session = sign_in(Client(), ADMIN).session
    first = identity.acquire_token(session, settings.GRAPH_SCOPES)
    second = identity.acquire_token(session, settings.GRAPH_SCOPES)
    assert first != second
    assert claims(second)["upn"] == ADMIN
    assert claims(second)["exp"] >= claims(first)["exp"]
    # The refresh token MSAL held was redeemed (and rotated) by the sandbox.
    assert RefreshToken.objects.filter(revoked_at__isnull=False).count() >= 1


def test_without_a_usable_refresh_token_the_user_must_sign_in_again(settings) -> None:
    settings.SANDBOX_ACCESS_TOKEN_LIFETIME = 60
    session = sign_in(Client(), ADMIN).session
    RefreshToken.objects.update(revoked_at=timezone.now())
    with pytest.raises(identity.TokenUnavailable) as caught:
        identity.acquire_token(session, settings.GRAPH_SCOPES)
    assert caught.value.scopes == settings.GRAPH_SCOPES
    assert "AADSTS700082" in caught.value.reason


def test_a_session_without_an_account_has_no_token() -> None:
    session = Client().session
    with pytest.raises(identity.TokenUnavailable):
        identity.acquire_token(session, settings.GRAPH_SCOPES)


def test_force_refresh_gets_a_new_token_even_while_the_cached_one_is_valid() -> None:
    session = sign_in(Client(), ADMIN).session
    first = identity.acquire_token(session, settings.GRAPH_SCOPES)
    renewed = identity.acquire_token(session, settings.GRAPH_SCOPES, force_refresh=True)
    assert renewed != first
    assert identity.acquire_token(session, settings.GRAPH_SCOPES) == renewed

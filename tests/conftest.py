"""Fixtures shared by the whole suite: signing in through the sandbox with the real MSAL flow."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from kernel import api_tokens, identity
from tests.audit_flush import allow_test_flush_past_the_truncate_trigger

allow_test_flush_past_the_truncate_trigger()

ADMIN = "admin@sandbox.example"
OPERATOR = "operator@sandbox.example"
READER = "reader@sandbox.example"
LIMITED = "limited@sandbox.example"


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """Each test starts clean: MSAL caches discovery (24 h) and failed token POSTs (60 s), the
    API keeps the tenant's keys, Django's cache holds On-Behalf-Of token caches."""
    identity._HTTP_CACHE.clear()
    api_tokens._cache.clear()
    cache.clear()
    yield
    identity._HTTP_CACHE.clear()


def sign_in(client: Client, upn: str, next_url: str = "/") -> Client:
    """Walk the whole sign-in: dashboard → sandbox authorize page → pick `upn` → callback."""
    response = client.get("/auth/sign-in/", {"next": next_url})
    assert response.status_code == 302, response.content
    authorize_url = response["Location"]
    response = client.post(authorize_url, {"username": upn})
    assert response.status_code == 302, response.content
    response = client.get(response["Location"])
    assert response.status_code == 302, response.content
    return client


def consent_to(upn: str, scopes: list[str]) -> None:
    """Record that `upn` consented to `scopes` for the dashboard, as the sandbox's consent screen
    does (sandbox.consent); tests that walk the consent screen itself do not use this."""
    from sandbox import consent

    consent.grant(upn, settings.ENTRA_CLIENT_ID, consent.graph_permissions(" ".join(scopes)))


@pytest.fixture
def signed_in_client(db: None) -> Callable[[str], Client]:
    def make(upn: str) -> Client:
        return sign_in(Client(), upn)

    return make


@pytest.fixture
def admin_client(signed_in_client: Callable[[str], Client]) -> Client:
    return signed_in_client(ADMIN)


@pytest.fixture
def operator_client(signed_in_client: Callable[[str], Client]) -> Client:
    return signed_in_client(OPERATOR)


@pytest.fixture
def reader_client(signed_in_client: Callable[[str], Client]) -> Client:
    return signed_in_client(READER)


@pytest.fixture
def graph_token(signed_in_client: Callable[[str], Client]) -> Callable[..., str]:
    """A real Graph access token for a demo user, from its session's MSAL cache."""

    def make(upn: str = ADMIN, scopes: list[str] | None = None) -> str:
        client = signed_in_client(upn)
        consent_to(upn, scopes or [])
        return identity.acquire_token(client.session, scopes or settings.GRAPH_SCOPES)

    return make


@pytest.fixture(autouse=True)
def sandbox_faults() -> Iterator[object]:
    """The sandbox's fault rules (sandbox.faults): every test starts and ends with none."""
    from sandbox import faults

    faults.clear()
    yield faults
    faults.clear()

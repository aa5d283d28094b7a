"""Fixtures shared by the whole suite: signing in through the sandbox with the real MSAL flow."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

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
    identity.forget_applications()
    api_tokens._cache.clear()
    cache.clear()
    yield
    identity._HTTP_CACHE.clear()


# Today's tenant-less page URLs redirect to the home tenant's (dashboard.tenant_routing, tested
# in tests/tenants). The suite's clients speak to the home tenant's URLs directly, so each test
# of a page checks the page itself.
LEGACY_TENANT_PAGES = ("/exchange-connectors/", "/app-proxy/", "/audit/intune/")


def home_tenant_path(path: str) -> str:
    if path.startswith(LEGACY_TENANT_PAGES):
        return f"/t/{settings.ENTRA_TENANT_ID}{path}"
    return path


def without_home_tenant(url: str) -> str:
    return url.replace(f"/t/{settings.ENTRA_TENANT_ID}/", "/", 1)


class HomeTenantClient(Client):
    """Requests today's URLs at the home tenant's, and reads its redirects in today's terms:
    these tests are about the pages; tests/tenants checks the tenant in every URL."""

    def generic(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", None) or {})
        for name in ("HX-Current-URL", "Referer"):
            if url := headers.get(name):
                parts = urlsplit(url)
                headers[name] = parts._replace(path=home_tenant_path(parts.path)).geturl()
        response = super().generic(method, home_tenant_path(path), *args, headers=headers, **kwargs)
        for header in ("Location", "HX-Redirect", "HX-Location"):
            if header in response:
                response[header] = without_home_tenant(response[header])
        return response


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
        return sign_in(HomeTenantClient(), upn)

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

"""Turning the watch on in tests: the real MSAL flow against the sandbox, as an Admin would."""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse
from django.test import Client

from sandbox import estate
from tests.conftest import ADMIN, sign_in


def sign_in_for_watch(client: Client, upn: str = ADMIN) -> HttpResponse:
    """The watch page's button → the sandbox's sign-in (pick `upn`, accept consent) → callback."""
    response = client.post("/watch/sign-in/")
    assert response.status_code == 302, response.content
    response = client.post(response["Location"], {"username": upn, "consent": "accept"})
    assert response.status_code == 302, response.content
    assert response["Location"].startswith("http://testserver/watch/callback/?")
    return client.get(response["Location"])


def stored_token_cache() -> str:
    """What the table holds, read with SQL past the model."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT token_cache FROM watch_watchcredential")
        (value,) = cursor.fetchone()
    return value


def partner_signed_in(*, customers: int = 3, watch: bool = True) -> Client:
    """A partner (home tenant and `customers` GDAP customers in the sandbox) whose Admin has
    discovered them and, with `watch`, turned the watch on."""
    estate.estate_seed(tenants=customers, exchange=3, app_proxy=2, groups=1, audit_events=0)
    client = sign_in(Client(), ADMIN)
    assert client.post("/tenants/discover/").status_code == 302
    if watch:
        sign_in_for_watch(client)
    return client

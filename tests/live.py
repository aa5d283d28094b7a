"""Talking to Django's live server (a real server thread, real sockets) as a signed-in user."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.test import Client

from tests.conftest import home_tenant_path, sign_in

# Any 32-character secret works as the CSRF cookie; sent back as the header, as htmx does.
CSRF_SECRET = "f" * 32


@dataclass
class Timed:
    response: requests.Response
    seconds: float


class LiveUser:
    """A requests.Session carrying the session cookie of a user who walked the real sign-in (in
    the test's Django client, against the same database and sandbox), and a CSRF token."""

    def __init__(self, base_url: str, upn: str) -> None:
        client = sign_in(Client(), upn)
        self.base_url = base_url
        self.http = requests.Session()
        self.http.cookies.set(
            settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
        )
        self.http.cookies.set(settings.CSRF_COOKIE_NAME, CSRF_SECRET)

    def send(self, method: str, path: str, *, htmx: bool = False, **kw: Any) -> Timed:
        headers = {"X-CSRFToken": CSRF_SECRET, **kw.pop("headers", {})}
        if htmx:
            headers["HX-Request"] = "true"
        started = time.monotonic()
        # Today's page URLs, at the home tenant's (tests/tenants checks the redirect itself).
        url = f"{self.base_url}{home_tenant_path(path)}"
        response = self.http.request(method, url, headers=headers, allow_redirects=False, **kw)
        return Timed(response, time.monotonic() - started)

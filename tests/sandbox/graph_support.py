"""Helpers for the sandbox Graph tests: a caller with a real token over the real session."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from graph.outbound import outbound_session
from sandbox import tokens
from sandbox.directory import demo_user
from sandbox.models import RequestLog
from tests.conftest import ADMIN

GRAPH = "https://graph.microsoft.com/"
# Everything the endpoints check; the identity provider grants each user its share of them.
ALL_SCOPES = [
    f"{GRAPH}{name}"
    for name in (
        "DeviceManagementServiceConfig.ReadWrite.All",
        "DeviceManagementServiceConfig.Read.All",
        "DeviceManagementConfiguration.ReadWrite.All",
        "DeviceManagementApps.Read.All",
        "Directory.ReadWrite.All",
        "Directory.Read.All",
    )
]
EXCHANGE = "deviceManagement/exchangeConnectors"
APP_PROXY = "onPremisesPublishingProfiles/applicationProxy"
AUDIT = "deviceManagement/auditEvents"


@dataclass
class Caller:
    """Speaks to the sandbox's Graph through the dashboard's real outbound session."""

    token: str | None

    def url(self, path: str) -> str:
        if path.startswith("https://"):
            return path
        return f"{settings.GRAPH_BASE_URL}/{path.lstrip('/')}"

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", None) or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return outbound_session().request(method, self.url(path), headers=headers, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)


def caller(
    graph_token: Callable[..., str], upn: str = ADMIN, scopes: list[str] | None = None
) -> Caller:
    """A caller holding a real access token of `upn` (from the root conftest's `graph_token`)."""
    return Caller(graph_token(upn, scopes or ALL_SCOPES))


def logged(path: str, method: str = "GET") -> list[RequestLog]:
    """The requests the sandbox logged for exactly this Graph path (relative to /beta)."""
    return list(RequestLog.objects.filter(method=method, path=f"/beta/{path}"))


def assert_graph_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """The error object, after checking the Graph error shape and the headers every answer has."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    inner = error["innerError"]
    assert inner["request-id"] == response.headers["request-id"]
    assert inner["client-request-id"] == response.headers["client-request-id"]
    assert inner["date"]
    return error


INTUNE_SUFFIX = re.compile(
    r" - Operation ID \(for customer support\): (?P<operation>[0-9a-f-]{36})"
    r" - Activity ID: (?P<activity>[0-9a-f-]{36}) - Url: (?P<url>https://\S+)"
    r" - CustomApiErrorPhrase: $"
)


def assert_intune_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """Intune's dialect: `message` is a JSON string of its own wrapper, whose `Message` ends in
    the Operation ID / Activity ID / Url suffix. Returns the wrapper, with the suffix's parts."""
    error = assert_graph_error(response, status, code)
    assert "\r\n" in error["message"]  # Intune pretty-prints its wrapper with CRLF
    wrapper = json.loads(error["message"])
    assert wrapper["_version"] == 3
    assert wrapper["CustomApiErrorPhrase"] == "" and wrapper["RetryAfter"] is None
    assert wrapper["ErrorSourceService"] == "" and wrapper["HttpHeaders"] == "{}"
    suffix = INTUNE_SUFFIX.search(wrapper["Message"])
    assert suffix is not None, wrapper["Message"]
    assert suffix["operation"] != suffix["activity"]
    return {**wrapper, "sentence": wrapper["Message"][: suffix.start()], **suffix.groupdict()}


def assert_directory_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """The directory's dialect: a plain sentence in `message`."""
    error = assert_graph_error(response, status, code)
    assert not error["message"].lstrip().startswith("{")
    assert "Operation ID" not in error["message"]
    return error


def narrow_caller(upn: str, scopes: list[str]) -> Caller:
    """A caller whose token carries only `scopes` (short names).

    Signed by the sandbox's identity provider code directly: through MSAL, a narrower request is
    answered from the cache with the sign-in's broader token.
    """
    user = demo_user(upn)
    assert user is not None
    token = tokens.graph_access_token(
        user=user,
        tenant_id=settings.ENTRA_TENANT_ID,
        client_id=settings.ENTRA_CLIENT_ID,
        scopes=scopes,
    )
    return Caller(token)

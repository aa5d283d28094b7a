"""Fixtures for the API tests: API tokens from the sandbox's device code flow, bearer clients."""

from __future__ import annotations

from collections.abc import Callable

import msal
import pytest
from django.conf import settings
from django.test import Client

from graph.outbound import outbound_session

SCRIPT_CLIENT_ID = "5c7197a1-0000-4000-8000-00000000a7a1"
API_SCOPE = f"api://{settings.ENTRA_CLIENT_ID}/access_as_user"


def device_code_token(upn: str) -> str:
    """An access token for the dashboard's API, as a script gets one: MSAL's device code flow,
    the code entered on the sandbox's device page by `upn`."""
    app = msal.PublicClientApplication(
        SCRIPT_CLIENT_ID,
        authority=settings.ENTRA_AUTHORITY,
        http_client=outbound_session(),
        instance_discovery=False,
    )
    flow = app.initiate_device_flow(scopes=[API_SCOPE])
    page = Client().post(
        f"/sandbox/{settings.ENTRA_TENANT_ID}/oauth2/deviceauth",
        {"user_code": flow["user_code"], "username": upn},
    )
    assert page.status_code == 200, page.content
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    return result["access_token"]


@pytest.fixture
def api_token(db: None) -> Callable[[str], str]:
    return device_code_token


@pytest.fixture
def bearer_client(api_token: Callable[[str], str]) -> Callable[[str], Client]:
    """A client that calls the API with a bearer token for `upn` (no session, no CSRF)."""

    def make(upn: str) -> Client:
        return Client(headers={"Authorization": f"Bearer {api_token(upn)}"})

    return make

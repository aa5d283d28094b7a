"""Microsoft's own clients against `sandbox_serve` for a customer tenant: MSAL redeems the
partner sign-in's refresh token at the customer's authority, the Graph SDK lists its connectors."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jwt
import msal
import pytest
import requests
from azure.core.credentials import AccessToken
from django.conf import settings
from django.test import Client
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from msgraph_beta import GraphRequestAdapter, GraphServiceClient

from sandbox import estate, server
from sandbox.models import ExchangeConnector
from sandbox.scope import tenant_scope
from tests.conftest import ADMIN

SCRIPT_CLIENT_ID = "5c7197a1-0000-4000-8000-00000000a7a1"
SCOPES = ["https://graph.microsoft.com/DeviceManagementServiceConfig.Read.All"]
FABRIKAM, NORTHWIND, WOODGROVE = (estate.customer_id(index) for index in range(3))


class Trusting(requests.Session):
    """MSAL's HTTP client, trusting the sandbox's CA on every request (REQUESTS_CA_BUNDLE would
    override a session-wide `verify`)."""

    def __init__(self, ca_file: str) -> None:
        super().__init__()
        self.ca_file = ca_file

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("verify", self.ca_file)
        return super().request(*args, **kwargs)


def signed_in_at_home(running: server.RunningSandbox) -> tuple[msal.SerializableTokenCache, Any]:
    """A script's sign-in at the partner tenant (device code, approved on the sandbox's page)."""
    cache = msal.SerializableTokenCache()
    http = Trusting(str(running.ca_file))
    home = msal.PublicClientApplication(
        SCRIPT_CLIENT_ID,
        authority=running.authority(settings.ENTRA_TENANT_ID),
        token_cache=cache,
        http_client=http,
        instance_discovery=False,
    )
    flow = home.initiate_device_flow(scopes=SCOPES)
    page = Client().post(
        f"/sandbox/{settings.ENTRA_TENANT_ID}/oauth2/deviceauth",
        {"user_code": flow["user_code"], "username": ADMIN},
    )
    assert page.status_code == 200, page.content
    assert "access_token" in home.acquire_token_by_device_flow(flow)
    return cache, http


def customer_app(
    running: server.RunningSandbox, tenant: str, cache: msal.SerializableTokenCache, http: Any
) -> msal.PublicClientApplication:
    return msal.PublicClientApplication(
        SCRIPT_CLIENT_ID,
        authority=running.authority(tenant),
        token_cache=cache,
        http_client=http,
        instance_discovery=False,
    )


@pytest.fixture
def running(sandbox_server: server.RunningSandbox) -> server.RunningSandbox:
    estate.estate_seed(tenants=3, exchange=4, app_proxy=1, groups=1, audit_events=1)
    return sandbox_server


def test_msal_and_the_graph_sdk_list_a_customers_connectors(running: server.RunningSandbox) -> None:
    cache, http = signed_in_at_home(running)
    app = customer_app(running, FABRIKAM, cache, http)
    [account] = app.get_accounts()
    result = app.acquire_token_silent(SCOPES, account)
    assert result and "access_token" in result, result
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["tid"] == FABRIKAM and claims["iss"] == f"https://sts.windows.net/{FABRIKAM}/"

    class MsalCredential:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            token = app.acquire_token_silent(SCOPES, account)
            return AccessToken(token["access_token"], int(time.time()) + 3000)

    async def listed() -> list[str]:
        auth = AzureIdentityAuthenticationProvider(
            MsalCredential(), scopes=SCOPES, allowed_hosts=["127.0.0.1"]
        )
        async with httpx.AsyncClient(verify=str(running.ca_file)) as http_client:
            adapter = GraphRequestAdapter(auth, client=http_client)
            adapter.base_url = running.graph_base_url
            page = await GraphServiceClient(
                request_adapter=adapter
            ).device_management.exchange_connectors.get()
            return [connector.id for connector in page.value]

    with tenant_scope(FABRIKAM):
        theirs = set(ExchangeConnector.objects.values_list("id", flat=True))
    # A thread of its own: after the browser tests, Playwright's sync API keeps an event loop
    # running in this one, where asyncio.run() refuses to start.
    with ThreadPoolExecutor(max_workers=1) as pool:
        listed_ids = pool.submit(asyncio.run, listed()).result()
    assert set(listed_ids) == theirs and len(theirs) == 4


@pytest.mark.parametrize(
    ("tenant", "code"), [(NORTHWIND, "AADSTS65001"), (WOODGROVE, "AADSTS50020")]
)
def test_msal_reports_a_customers_refusal(
    running: server.RunningSandbox, tenant: str, code: str
) -> None:
    cache, http = signed_in_at_home(running)
    app = customer_app(running, tenant, cache, http)
    [account] = app.get_accounts()
    refused = app.acquire_token_silent_with_error(SCOPES, account)
    assert refused and code in refused["error_description"]

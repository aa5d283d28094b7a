"""The sandbox's device code flow and On-Behalf-Of grant, driven by MSAL as a script would."""

from __future__ import annotations

import time

import jwt
import msal
import pytest
from django.conf import settings
from django.test import Client

from graph.outbound import outbound_session
from sandbox import tokens
from sandbox.directory import demo_user
from tests.conftest import OPERATOR

pytestmark = pytest.mark.django_db

API_SCOPE = f"api://{settings.ENTRA_CLIENT_ID}/access_as_user"
GRAPH_SCOPE = "https://graph.microsoft.com/DeviceManagementServiceConfig.ReadWrite.All"
SCRIPT_CLIENT = "11111111-aaaa-4bbb-8ccc-000000005c71"


def script_app() -> msal.PublicClientApplication:
    return msal.PublicClientApplication(
        SCRIPT_CLIENT,
        authority=settings.ENTRA_AUTHORITY,
        http_client=outbound_session(),
        instance_discovery=False,
    )


def approve(user_code: str, upn: str = OPERATOR, **extra: str):
    return Client().post(
        f"/sandbox/{settings.ENTRA_TENANT_ID}/oauth2/deviceauth",
        {"user_code": user_code, "username": upn, **extra},
    )


def api_token_by_device_code(upn: str = OPERATOR) -> str:
    app = script_app()
    flow = app.initiate_device_flow(scopes=[API_SCOPE])
    assert "user_code" in flow, flow
    assert flow["verification_uri"].endswith("/oauth2/deviceauth")
    assert approve(flow["user_code"], upn).status_code == 200
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    return result["access_token"]


def test_device_code_gives_an_api_token_for_the_chosen_user_with_roles() -> None:
    claims = jwt.decode(api_token_by_device_code(), options={"verify_signature": False})
    assert claims["aud"] == settings.ENTRA_CLIENT_ID
    assert claims["scp"] == "access_as_user"
    assert claims["azp"] == SCRIPT_CLIENT
    assert claims["preferred_username"] == OPERATOR
    assert claims["roles"] == ["Dashboard.Operator"]
    assert claims["iss"] == f"https://login.sandbox.localhost/{settings.ENTRA_TENANT_ID}/v2.0"


def test_polling_before_approval_is_authorization_pending_and_decline_ends_it() -> None:
    app = script_app()
    flow = app.initiate_device_flow(scopes=[API_SCOPE])
    flow["expires_at"] = time.time() + 3  # poll briefly: nobody approves this one
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" not in result
    declined = script_app().initiate_device_flow(scopes=[API_SCOPE])
    page = approve(declined["user_code"], cancel="1")
    assert "Sign-in declined" in page.content.decode()
    outcome = script_app().acquire_token_by_device_flow(declined)
    assert outcome["error"] == "authorization_declined"


def test_an_unknown_code_on_the_device_page_is_a_clear_error_keeping_the_input() -> None:
    response = approve("NOPE12345")
    assert response.status_code == 400
    assert "unknown, expired or already used" in response.content.decode()
    assert 'value="NOPE12345"' in response.content.decode()


def test_one_request_cannot_mix_resources() -> None:
    flow = script_app().initiate_device_flow(scopes=[API_SCOPE, GRAPH_SCOPE])
    assert flow["error"] == "invalid_scope"
    assert "more than one resource" in flow["error_description"]


def obo_app() -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        settings.ENTRA_CLIENT_ID,
        client_credential=settings.ENTRA_CLIENT_SECRET,
        authority=settings.ENTRA_AUTHORITY,
        http_client=outbound_session(),
        instance_discovery=False,
    )


def test_on_behalf_of_trades_the_api_token_for_a_graph_token_of_the_same_user() -> None:
    result = obo_app().acquire_token_on_behalf_of(api_token_by_device_code(), [GRAPH_SCOPE])
    assert "access_token" in result, result
    claims = tokens.validate_graph_token(result["access_token"])
    assert claims["upn"] == OPERATOR
    assert claims["scp"] == "DeviceManagementServiceConfig.ReadWrite.All"
    graph = outbound_session().get(
        f"{settings.GRAPH_BASE_URL}/deviceManagement/exchangeConnectors",
        headers={"Authorization": f"Bearer {result['access_token']}"},
    )
    assert graph.status_code == 200


def test_on_behalf_of_refuses_a_graph_token_an_expired_token_and_a_foreign_audience() -> None:
    user = demo_user(OPERATOR)
    assert user is not None
    tenant = settings.ENTRA_TENANT_ID
    graph_token = tokens.graph_access_token(
        user=user, tenant_id=tenant, client_id=SCRIPT_CLIENT, scopes=["User.Read"]
    )
    foreign = tokens.api_access_token(
        user=user, tenant_id=tenant, client_id=SCRIPT_CLIENT, audience="someone-else", scopes=["x"]
    )
    for assertion, code in [(graph_token, 50013), (foreign, 50013), ("not-a-jwt", 50027)]:
        result = obo_app().acquire_token_on_behalf_of(assertion, [GRAPH_SCOPE])
        assert result["error"] == "invalid_grant"
        assert result["error_codes"] == [code]


def test_on_behalf_of_refuses_an_expired_assertion(settings) -> None:
    settings.SANDBOX_ACCESS_TOKEN_LIFETIME = -10
    user = demo_user(OPERATOR)
    assert user is not None
    expired = tokens.api_access_token(
        user=user,
        tenant_id=settings.ENTRA_TENANT_ID,
        client_id=SCRIPT_CLIENT,
        audience=settings.ENTRA_CLIENT_ID,
        scopes=["access_as_user"],
    )
    result = obo_app().acquire_token_on_behalf_of(expired, [GRAPH_SCOPE])
    assert result["error_codes"] == [500133]

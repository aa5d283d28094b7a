"""The sandbox as a partner and its customers: GDAP relationships, tokens per tenant, refusals."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import msal
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from graph.outbound import outbound_session
from kernel import identity
from sandbox import estate
from sandbox.models import ExchangeConnector, Tenant
from sandbox.scope import tenant_scope
from tests.conftest import ADMIN, sign_in
from tests.sandbox.graph_support import Caller

GRAPH_READ = ["https://graph.microsoft.com/DeviceManagementServiceConfig.Read.All"]
GDAP_READ = ["https://graph.microsoft.com/DelegatedAdminRelationship.Read.All"]
FABRIKAM, NORTHWIND, WOODGROVE = (estate.customer_id(index) for index in range(3))


@pytest.fixture
def partner(db: None) -> None:
    estate.estate_seed(tenants=3, exchange=2, app_proxy=1, groups=1, audit_events=2)


def customer_token(client: Client, tenant: str, scopes: list[str] | None = None) -> dict[str, Any]:
    """What MSAL answers for a token at `tenant`'s authority from the session's own cache."""
    cache = msal.SerializableTokenCache()
    cache.deserialize(client.session[identity.CACHE_KEY])
    app = msal.ConfidentialClientApplication(
        settings.ENTRA_CLIENT_ID,
        client_credential=settings.ENTRA_CLIENT_SECRET,
        authority=f"{settings.SANDBOX_LOGIN_ORIGIN}/{tenant}",
        token_cache=cache,
        http_client=outbound_session(),
        instance_discovery=False,
    )
    [account] = app.get_accounts()
    return app.acquire_token_silent_with_error(scopes or GRAPH_READ, account) or {}


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def test_relationships_are_served_in_graph_v1_shape(partner: None, graph_token: Any) -> None:
    caller = Caller(graph_token(ADMIN, GDAP_READ))
    url = settings.GRAPH_BASE_URL.replace("/beta", "/v1.0")
    response = caller.get(f"{url}/tenantRelationships/delegatedAdminRelationships")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"].endswith(
        "/v1.0/$metadata#tenantRelationships/delegatedAdminRelationships"
    )
    by_customer = {item["customer"]["tenantId"]: item for item in body["value"]}
    assert set(by_customer) == {FABRIKAM, NORTHWIND, WOODGROVE}
    fabrikam = by_customer[FABRIKAM]
    assert fabrikam["status"] == "active"
    assert fabrikam["customer"]["displayName"] == "Fabrikam"
    assert fabrikam["duration"] == "P730D"
    assert fabrikam["accessDetails"] == {
        "unifiedRoles": [{"roleDefinitionId": "3a2c62db-5318-420d-8d74-23affee5d9d5"}]
    }
    assert len(by_customer[NORTHWIND]["accessDetails"]["unifiedRoles"]) == 2
    assert fabrikam["endDateTime"].endswith("Z")
    assert by_customer[WOODGROVE]["status"] == "expired"
    filtered = caller.get(
        f"{url}/tenantRelationships/delegatedAdminRelationships",
        params={"$filter": "status eq 'expired'"},
    ).json()["value"]
    assert [item["customer"]["tenantId"] for item in filtered] == [WOODGROVE]


def test_tenant_information_by_id_names_the_default_domain(partner: None, graph_token: Any) -> None:
    scope = ["https://graph.microsoft.com/CrossTenantInformation.ReadBasic.All"]
    caller = Caller(graph_token(ADMIN, scope))
    url = settings.GRAPH_BASE_URL.replace("/beta", "/v1.0")
    found = caller.get(
        f"{url}/tenantRelationships/findTenantInformationByTenantId(tenantId='{WOODGROVE}')"
    )
    assert found.status_code == 200
    body = found.json()
    assert body["@odata.context"].endswith("$metadata#microsoft.graph.tenantInformation")
    assert (body["tenantId"], body["displayName"], body["defaultDomainName"]) == (
        WOODGROVE,
        "Woodgrove Bank",
        "woodgrove.example",
    )
    missing = caller.get(
        f"{url}/tenantRelationships/findTenantInformationByTenantId(tenantId='nowhere')"
    )
    assert missing.status_code == 404


def test_relationships_page_with_next_link(partner: None, graph_token: Any, settings: Any) -> None:
    settings.SANDBOX_PAGE_SIZE = 2
    caller = Caller(graph_token(ADMIN, GDAP_READ))
    url = settings.GRAPH_BASE_URL.replace("/beta", "/v1.0")
    first = caller.get(f"{url}/tenantRelationships/delegatedAdminRelationships").json()
    assert len(first["value"]) == 2
    second = caller.get(first["@odata.nextLink"]).json()
    assert len(second["value"]) == 1 and "@odata.nextLink" not in second


def test_a_customer_token_is_the_customers_and_graph_answers_for_it(partner: None) -> None:
    client = sign_in(Client(), ADMIN)
    result = customer_token(client, FABRIKAM)
    assert "access_token" in result, result
    access = claims(result["access_token"])
    assert access["tid"] == FABRIKAM
    assert access["iss"] == f"https://sts.windows.net/{FABRIKAM}/"
    assert result["id_token_claims"]["iss"] == f"{settings.SANDBOX_LOGIN_ORIGIN}/{FABRIKAM}/v2.0"
    listed = Caller(result["access_token"]).get("deviceManagement/exchangeConnectors").json()
    with tenant_scope(FABRIKAM):
        theirs = set(ExchangeConnector.objects.values_list("id", flat=True))
    home = set(ExchangeConnector.objects.values_list("id", flat=True))
    assert {item["id"] for item in listed["value"]} == theirs
    assert theirs and not theirs & home


def test_a_customer_reached_by_domain_issues_its_own_tenant_id(partner: None) -> None:
    client = sign_in(Client(), ADMIN)
    result = customer_token(client, "fabrikam.example")
    assert claims(result["access_token"])["tid"] == FABRIKAM


def test_a_customer_without_consent_answers_aadsts65001_until_an_admin_consents(
    partner: None,
) -> None:
    client = sign_in(Client(), ADMIN)
    refused = customer_token(client, NORTHWIND)
    assert refused["error"] == "invalid_grant"
    assert "AADSTS65001" in refused["error_description"]
    assert (
        refused.get("classification") == "consent_required"
        or refused.get("suberror") == "consent_required"
    )
    redirect = "http://testserver/tenants/consented/"
    page = client.get(
        f"/sandbox/{NORTHWIND}/adminconsent",
        {"client_id": settings.ENTRA_CLIENT_ID, "redirect_uri": redirect, "state": "s1"},
    )
    assert page.status_code == 200
    assert b"Northwind Traders" in page.content
    accepted = client.post(
        f"/sandbox/{NORTHWIND}/adminconsent?client_id={settings.ENTRA_CLIENT_ID}"
        f"&redirect_uri={redirect}&state=s1",
        {"username": ADMIN},
    )
    assert accepted.status_code == 302
    back = urlsplit(accepted["Location"])
    assert back.path == "/tenants/consented/"
    assert parse_qs(back.query) == {
        "admin_consent": ["True"],
        "tenant": [NORTHWIND],
        "state": ["s1"],
    }
    granted = customer_token(client, NORTHWIND)
    assert claims(granted["access_token"])["tid"] == NORTHWIND


def test_admin_consent_refuses_an_unregistered_reply_url(partner: None) -> None:
    page = Client().get(
        f"/sandbox/{NORTHWIND}/adminconsent",
        {"client_id": settings.ENTRA_CLIENT_ID, "redirect_uri": "https://evil.example/"},
    )
    assert page.status_code == 400 and b"AADSTS50011" in page.content
    assert not Tenant.objects.get(pk=NORTHWIND).app_consented


def test_an_expired_relationship_means_the_user_is_not_in_the_tenant(partner: None) -> None:
    client = sign_in(Client(), ADMIN)
    refused = customer_token(client, WOODGROVE)
    assert refused["error"] == "invalid_grant"
    assert "AADSTS50020" in refused["error_description"]
    assert "Woodgrove Bank" in refused["error_description"]


def test_an_unknown_tenant_is_not_found(partner: None) -> None:
    response = outbound_session().get(
        f"{settings.SANDBOX_LOGIN_ORIGIN}/nowhere.example/v2.0/.well-known/openid-configuration"
    )
    assert response.status_code == 400
    assert "AADSTS90002" in response.json()["error_description"]


def test_graph_enforces_the_relationships_roles(partner: None) -> None:
    client = sign_in(Client(), ADMIN)
    token = customer_token(
        client, FABRIKAM, ["https://graph.microsoft.com/Directory.ReadWrite.All"]
    )["access_token"]
    caller = Caller(token)
    refused = caller.get("onPremisesPublishingProfiles/applicationProxy/connectors")
    assert refused.status_code == 403
    assert "Application Administrator" in refused.json()["error"]["message"]


def test_seed_builds_customer_estates(db: None, capsys: Any) -> None:
    call_command("sandbox_seed", "--tenants", "5", "--exchange", "3", "--app-proxy", "2")
    assert Tenant.objects.filter(is_partner=False).count() == 5
    for index in range(5):
        with tenant_scope(estate.customer_id(index)):
            assert ExchangeConnector.objects.count() == 3
    assert ExchangeConnector.everywhere.count() == 3 * 6
    assert "Customer tenant Customer 005" in capsys.readouterr().out


def test_the_request_log_names_each_request_s_tenant(partner: None) -> None:
    """Graph's limits are per tenant: the log says whose budget each request came from."""
    from sandbox.models import RequestLog

    token = customer_token(sign_in(Client(), ADMIN), FABRIKAM)["access_token"]
    caller = Caller(token)
    caller.get("deviceManagement/exchangeConnectors")
    caller.post(
        "$batch",
        json={
            "requests": [
                {"id": "1", "method": "GET", "url": "/deviceManagement/exchangeConnectors"}
            ]
        },
    )
    Caller(None).get("deviceManagement/exchangeConnectors")  # no token: no tenant

    logged = list(RequestLog.objects.values_list("path", "batch_request_id", "tenant_id"))
    assert [(path, tenant) for path, _, tenant in logged] == [
        ("/beta/deviceManagement/exchangeConnectors", FABRIKAM),
        ("/beta/deviceManagement/exchangeConnectors", FABRIKAM),  # inside the batch
        ("/beta/$batch", FABRIKAM),
        ("/beta/deviceManagement/exchangeConnectors", ""),
    ]

"""Pages and API under the tenant: its own data, its refusals as clear pages, old URLs."""

from __future__ import annotations

import json
import re

from django.test import Client

from audit.models import AuditEntry
from sandbox.models import ExchangeConnector
from sandbox.scope import tenant_scope
from tests.conftest import ADMIN
from tests.tenants.conftest import FABRIKAM, HOME, NORTHWIND, WOODGROVE


def server_names(page: str) -> set[str]:
    return set(re.findall(r"EXCH[\w.-]+\.[\w.]+", page))


def ids_in(tenant: str) -> set[str]:
    with tenant_scope(tenant):
        return set(ExchangeConnector.objects.values_list("id", flat=True))


def test_a_customers_pages_show_its_own_connectors_and_links_stay_there(
    technician: Client,
) -> None:
    page = technician.get(f"/t/{FABRIKAM}/exchange-connectors/")
    assert page.status_code == 200
    html = page.content.decode()
    links = set(re.findall(r'href="/t/[^/]+/exchange-connectors/([0-9a-f-]{36})/"', html))
    assert links == ids_in(FABRIKAM)
    assert not links & ids_in(HOME)
    assert f'action="/t/{FABRIKAM}/exchange-connectors/sync/"' in html
    assert 'data-testid="current-tenant">Fabrikam<' in html


def test_a_tenant_named_by_its_domain_is_the_same_tenant(technician: Client) -> None:
    # GDAP names the customer; discovery asked Graph for its default domain.
    page = technician.get("/t/fabrikam.example/exchange-connectors/")
    assert page.status_code == 200
    assert set(re.findall(r"exchange-connectors/([0-9a-f-]{36})/", page.content.decode())) == (
        ids_in(FABRIKAM)
    )


def test_two_tabs_on_two_tenants(technician: Client) -> None:
    """One session, two tenants at once: each URL answers for its own tenant."""
    for _ in range(2):
        home = technician.get(f"/t/{HOME}/exchange-connectors/").content.decode()
        fabrikam = technician.get(f"/t/{FABRIKAM}/exchange-connectors/").content.decode()
        assert set(re.findall(r"exchange-connectors/([0-9a-f-]{36})/", home)) == ids_in(HOME)
        assert set(re.findall(r"exchange-connectors/([0-9a-f-]{36})/", fabrikam)) == (
            ids_in(FABRIKAM)
        )


def test_consent_missing_is_a_page_with_the_admin_consent_link(technician: Client) -> None:
    page = technician.get(f"/t/{NORTHWIND}/exchange-connectors/")
    assert page.status_code == 403
    html = page.content.decode()
    assert "The dashboard is not consented in Northwind Traders" in html
    link = re.search(r'href="([^"]+)" data-testid="admin-consent-link"', html)
    # Beside the sign-in page a browser reaches (the sandbox's: under /sandbox/ on this host).
    assert link and link[1].startswith(f"/sandbox/{NORTHWIND}/adminconsent?client_id=")
    assert "AADSTS65001" in html


def test_an_expired_relationship_is_no_access(technician: Client) -> None:
    page = technician.get(f"/t/{WOODGROVE}/exchange-connectors/")
    assert page.status_code == 403
    html = page.content.decode()
    assert "Your account has no access to Woodgrove Bank" in html
    assert "AADSTS50020" in html and "admin-consent-link" not in html


def test_a_tenant_the_dashboard_does_not_manage(technician: Client) -> None:
    page = technician.get("/t/nowhere.example/exchange-connectors/")
    assert page.status_code == 404
    assert "nowhere.example is not one of the tenants" in page.content.decode()


def test_htmx_refusal_is_a_toast(technician: Client) -> None:
    response = technician.get(
        f"/t/{WOODGROVE}/exchange-connectors/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 403
    toasts = json.loads(response["HX-Trigger"])["toasts"]["toasts"]
    assert any("no access to Woodgrove Bank" in toast["message"] for toast in toasts)


def test_the_api_under_a_tenant_and_its_refusals(technician: Client) -> None:
    listed = technician.get(f"/api/v1/tenants/{FABRIKAM}/exchange-connectors/")
    assert listed.status_code == 200
    body = listed.json()
    items = body["results"]
    assert {item["id"] for item in items} == ids_in(FABRIKAM)
    refused = technician.get(f"/api/v1/tenants/{NORTHWIND}/exchange-connectors/")
    assert refused.status_code == 403
    extra = refused.json()["extra"]
    assert extra["reason"] == "consent_required" and "adminconsent" in extra["admin_consent_url"]
    unknown = technician.get("/api/v1/tenants/nowhere.example/exchange-connectors/")
    assert unknown.status_code == 404 and unknown.json()["message"]


def test_old_page_urls_redirect_to_the_home_tenant_and_the_api_answers_as_before(
    technician: Client,
) -> None:
    page = technician.get("/exchange-connectors/?status=connected")
    assert (page.status_code, page["Location"]) == (
        302,
        f"/t/{HOME}/exchange-connectors/?status=connected",
    )
    post = technician.post("/exchange-connectors/sync/", {"sync_type": "deltaSync"})
    assert (post.status_code, post["Location"]) == (307, f"/t/{HOME}/exchange-connectors/sync/")
    assert technician.get("/audit/intune/")["Location"] == f"/t/{HOME}/audit/intune/"
    api = technician.get("/api/v1/exchange-connectors/")
    assert api.status_code == 200
    body = api.json()
    items = body["results"]
    assert {item["id"] for item in items} == ids_in(HOME)


def test_a_write_in_a_tenant_is_audited_with_that_tenant(technician: Client, settings) -> None:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 0
    connector = sorted(ids_in(FABRIKAM))[0]
    response = technician.post(
        f"/t/{FABRIKAM}/exchange-connectors/{connector}/sync/", {"sync_type": "deltaSync"}
    )
    assert response.status_code in {200, 302}
    entries = AuditEntry.objects.filter(target_id=connector)
    assert entries.count() == 2
    assert set(entries.values_list("tenant_id", flat=True)) == {FABRIKAM}


def test_the_api_cannot_forge_an_entrys_tenant(technician: Client, settings) -> None:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 0
    connector = sorted(ids_in(FABRIKAM))[0]
    response = technician.post(
        f"/api/v1/tenants/{FABRIKAM}/exchange-connectors/{connector}/sync/",
        {"syncType": "deltaSync", "sync_type": "deltaSync", "tenant_id": HOME, "tenantId": HOME},
        content_type="application/json",
    )
    assert response.status_code in {200, 202}, response.content
    assert set(
        AuditEntry.objects.filter(target_id=connector).values_list("tenant_id", flat=True)
    ) == {FABRIKAM}
    # The same id in another tenant is another tenant's object: Graph there has no such one.
    elsewhere = technician.post(
        f"/api/v1/tenants/{HOME}/exchange-connectors/{connector}/sync/",
        {"syncType": "deltaSync", "sync_type": "deltaSync"},
        content_type="application/json",
    )
    assert elsewhere.status_code == 404


def test_the_audit_log_filters_and_exports_by_tenant(technician: Client, settings) -> None:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 0
    for tenant in (FABRIKAM, HOME):
        connector = sorted(ids_in(tenant))[0]
        technician.post(
            f"/t/{tenant}/exchange-connectors/{connector}/sync/", {"sync_type": "deltaSync"}
        )
    everything = technician.get("/audit/").content.decode()
    assert 'data-testid="result-count">2 actions' in everything
    fabrikam_only = technician.get("/audit/", {"tenant": FABRIKAM}).content.decode()
    assert 'data-testid="result-count">1 action<' in fabrikam_only
    within = technician.get(f"/t/{FABRIKAM}/audit/").content.decode()
    assert 'data-testid="result-count">1 action<' in within
    csv = b"".join(
        technician.get("/audit/", {"tenant": FABRIKAM, "format": "csv"}).streaming_content
    )
    lines = csv.decode().strip().splitlines()
    assert len(lines) == 2 and FABRIKAM in lines[1] and HOME not in lines[1]
    home_entry = AuditEntry.objects.filter(tenant_id=HOME).first()
    assert technician.get(f"/audit/{home_entry.pk}/").status_code == 200
    assert technician.get(f"/t/{FABRIKAM}/audit/{home_entry.pk}/").status_code == 404
    assert technician.get(f"/api/v1/tenants/{FABRIKAM}/audit/{home_entry.pk}/").status_code == 404
    api = technician.get(f"/api/v1/tenants/{FABRIKAM}/audit/").json()
    rows = api["results"]
    assert [row["tenantId"] for row in rows] == [FABRIKAM]


def test_switcher_keeps_the_section(technician: Client) -> None:
    response = technician.get(
        "/tenants/switch/",
        {
            "tenant": f"Fabrikam · fabrikam.example · {FABRIKAM}",
            "from": f"/t/{HOME}/app-proxy/groups/x/",
        },
    )
    assert response["Location"] == f"/t/{FABRIKAM}/app-proxy/groups/"
    by_name = technician.get("/tenants/switch/", {"tenant": "northwind"})
    assert by_name["Location"] == f"/t/{NORTHWIND}/exchange-connectors/"
    assert ADMIN  # the technician is the partner's admin


def test_allow_list_restricts_the_tenants(technician: Client, settings) -> None:
    settings.TENANT_ALLOW_LIST = [FABRIKAM]
    assert technician.get(f"/t/{FABRIKAM}/exchange-connectors/").status_code == 200
    refused = technician.get(f"/t/{NORTHWIND}/exchange-connectors/")
    assert refused.status_code == 403
    assert technician.get(f"/t/{HOME}/exchange-connectors/").status_code == 200


def test_switcher_suggests_tenants_by_name_domain_or_id(technician: Client) -> None:
    technician.post("/tenants/add/", {"tenant": "fabrikam.example"})
    for typed in ("fabri", "fabrikam.example", FABRIKAM[:8]):
        options = technician.get("/tenants/options/", {"tenant": typed}).content.decode()
        assert f"Fabrikam · fabrikam.example · {FABRIKAM}" in options
        assert NORTHWIND not in options

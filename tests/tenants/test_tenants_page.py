"""The tenants page: GDAP discovery, every access state, and what the roles allow."""

from __future__ import annotations

import re

from django.test import Client

from sandbox.models import Tenant
from tenants.models import AccessState, ManagedTenant, TenantSource
from tests.conftest import READER, sign_in
from tests.tenants.conftest import FABRIKAM, HOME, NORTHWIND, WOODGROVE


def states(page: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-tenant="([^"]+)">.*?data-state="([^"]+)"', page, re.S)
    return dict(rows)


def row_of(page: str, tenant: str) -> str:
    start = page.index(f'<tr data-tenant="{tenant}">')
    return page[start : page.index("</tr>", start)]


def test_discovery_lists_the_gdap_customers_with_their_relationships(technician: Client) -> None:
    customers = ManagedTenant.objects.filter(source=TenantSource.GDAP)
    assert {t.tenant_id: t.display_name for t in customers} == {
        FABRIKAM: "Fabrikam",
        NORTHWIND: "Northwind Traders",
        WOODGROVE: "Woodgrove Bank",
    }
    assert ManagedTenant.objects.get(tenant_id=WOODGROVE).relationship_status == "expired"
    # GDAP names each customer; Graph's tenant information gives its default domain.
    assert ManagedTenant.objects.get(tenant_id=NORTHWIND).default_domain == "northwind.example"
    assert ManagedTenant.objects.get(tenant_id=HOME).source == TenantSource.HOME


def test_each_access_state_after_checking(technician: Client) -> None:
    before = states(technician.get("/tenants/").content.decode())
    assert before[WOODGROVE] == "expired"  # known from the relationship alone
    assert before[FABRIKAM] == "unchecked"
    assert technician.post("/tenants/check/").status_code == 302
    page = technician.get("/tenants/").content.decode()
    assert states(page) == {
        HOME: "ready",
        FABRIKAM: "ready",
        NORTHWIND: "consent_needed",
        WOODGROVE: "expired",
    }
    northwind = row_of(page, NORTHWIND)
    link = re.search(r'href="([^"]+)" data-testid="consent-link"', northwind)
    assert link and f"/{NORTHWIND}/adminconsent?client_id=" in link[1].replace("&amp;", "&")
    assert "tenants%2Fconsented%2F" in link[1]
    assert ManagedTenant.objects.get(tenant_id=WOODGROVE).access == AccessState.NO_ACCESS


def test_expiring_soon_once_consented(technician: Client) -> None:
    Tenant.objects.filter(pk=NORTHWIND).update(app_consented=True)
    technician.post("/tenants/check/")
    page = technician.get("/tenants/").content.decode()
    assert states(page)[NORTHWIND] == "expiring"
    assert "Ready · relationship expiring soon" in row_of(page, NORTHWIND)


def test_the_roles_decide_which_connector_pages_are_offered(technician: Client) -> None:
    technician.post("/tenants/check/")
    page = technician.get("/tenants/").content.decode()
    fabrikam = row_of(page, FABRIKAM)  # Intune Administrator only
    assert f'href="/t/{FABRIKAM}/exchange-connectors/"' in fabrikam
    assert f'href="/t/{FABRIKAM}/audit/intune/"' in fabrikam
    assert "app-proxy" not in fabrikam
    assert "Intune Administrator" in fabrikam and "Application Administrator" not in fabrikam
    home = row_of(page, HOME)
    assert f'href="/t/{HOME}/app-proxy/connectors/"' in home


def test_admin_consent_round_trip_makes_the_tenant_ready(technician: Client) -> None:
    technician.post("/tenants/check/")
    consent = technician.post(
        f"/sandbox/{NORTHWIND}/adminconsent?client_id=00000000-0000-4000-8000-00000000da5b"
        "&redirect_uri=http://testserver/tenants/consented/",
        {"username": "admin@sandbox.example"},
    )
    back = technician.get(consent["Location"])
    assert back.status_code == 302 and back["Location"] == "/tenants/"
    assert ManagedTenant.objects.get(tenant_id=NORTHWIND).access == AccessState.READY


def test_add_a_tenant_by_domain_resolves_its_id(technician: Client) -> None:
    ManagedTenant.objects.filter(tenant_id=FABRIKAM).delete()
    response = technician.post("/tenants/add/", {"tenant": "Fabrikam.example"})
    assert response.status_code == 302
    added = ManagedTenant.objects.get(tenant_id=FABRIKAM)
    assert (added.source, added.default_domain, added.access) == (
        TenantSource.MANUAL,
        "fabrikam.example",
        AccessState.READY,
    )


def test_add_refuses_what_is_no_tenant(technician: Client) -> None:
    bad = technician.post("/tenants/add/", {"tenant": "not a domain"})
    assert bad.status_code == 400 and "Enter a tenant id" in bad.content.decode()
    unknown = technician.post("/tenants/add/", {"tenant": "nowhere.example"})
    assert unknown.status_code == 404
    assert "No Entra tenant answers for the domain nowhere.example" in unknown.content.decode()


def test_readers_may_look_but_not_discover(partner: None) -> None:
    reader = sign_in(Client(), READER)
    assert reader.get("/tenants/").status_code == 200
    assert reader.post("/tenants/discover/").status_code == 403

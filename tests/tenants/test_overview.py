"""The overview of an admin with several tenants is the all-tenants list (from snapshots); with
only the home tenant it stays the two live cards."""

from __future__ import annotations

import re

from django.test import Client

from sandbox.models import RequestLog
from tests.conftest import ADMIN, sign_in
from tests.tenants.conftest import FABRIKAM, HOME, NORTHWIND, WOODGROVE

ROW = r'<tr data-tenant="([^"]+)">'


def test_several_tenants_the_overview_lists_every_tenant(technician: Client, settings) -> None:
    settings.TENANT_REFRESH_CONCURRENCY = 1
    technician.post("/tenants/health/refresh/")
    RequestLog.objects.all().delete()
    html = technician.get("/").content.decode()
    assert RequestLog.objects.count() == 0  # stored snapshots only, no Graph call
    assert 'data-testid="all-tenants"' in html and 'data-testid="exchange-card"' not in html
    assert sorted(re.findall(ROW, html)) == sorted([HOME, FABRIKAM, NORTHWIND, WOODGROVE])
    assert f'href="/t/{FABRIKAM}/exchange-connectors/"' in html  # into the tenant
    assert html.count('class="field-error" data-testid="tenant-error"') == 2  # Northwind, Woodgrove
    assert 'data-testid="overview-name"' in html  # who is signed in, as before
    assert 'data-testid="refresh"' in html
    # Filter, sort and CSV stay on the overview.
    assert 'action="/"' in html
    search = technician.get("/", {"q": "woodgrove"}).content.decode()
    assert re.findall(ROW, search) == [WOODGROVE]
    problems = re.findall(ROW, technician.get("/", {"problems": "on"}).content.decode())
    assert NORTHWIND in problems and WOODGROVE in problems
    ordered = re.findall(ROW, technician.get("/", {"sort": "-tenant"}).content.decode())
    assert ordered == list(reversed(re.findall(ROW, technician.get("/").content.decode())))
    csv = technician.get("/", {"format": "csv"})
    lines = b"".join(csv.streaming_content).decode().strip().splitlines()
    assert lines[0].startswith("tenant_id,tenant,domain,") and len(lines) == 5


def test_bad_filter_on_the_overview_names_the_field(technician: Client) -> None:
    response = technician.get("/", {"sort": "nonsense", "q": "fabri"})
    html = response.content.decode()
    assert response.status_code == 400 and "nonsense" in html
    assert 'value="fabri"' in html  # what was typed stays


def test_only_the_home_tenant_keeps_the_live_cards(partner: None) -> None:
    client = sign_in(Client(), ADMIN)  # GDAP customers not discovered: home only
    html = client.get("/").content.decode()
    assert 'data-testid="exchange-card"' in html and 'data-testid="all-tenants"' not in html


def test_an_allow_list_of_the_home_tenant_alone_keeps_the_cards(
    technician: Client, settings
) -> None:
    settings.TENANT_ALLOW_LIST = [HOME]
    html = technician.get("/").content.decode()
    assert 'data-testid="exchange-card"' in html and 'data-testid="all-tenants"' not in html

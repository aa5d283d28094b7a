"""The all-tenants health page: stored snapshots, a refresh across tenants each failing on its
own, filter, sort, CSV."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client

from sandbox.models import AppProxyConnector, ExchangeConnector, RequestLog
from sandbox.scope import tenant_scope
from tenants.models import TenantSnapshot
from tests.conftest import ADMIN, consent_to, sign_in
from tests.tenants.conftest import FABRIKAM, HOME, NORTHWIND, WOODGROVE


def snapshot(tenant: str) -> TenantSnapshot:
    return TenantSnapshot.objects.get(tenant__tenant_id=tenant)


def counts_in(tenant: str) -> tuple[int, int]:
    with tenant_scope(tenant):
        return ExchangeConnector.objects.count(), AppProxyConnector.objects.count()


def test_refresh_reads_each_tenant_and_each_fails_on_its_own(technician: Client, settings) -> None:
    settings.TENANT_REFRESH_CONCURRENCY = 1
    consent_to(ADMIN, settings.APP_PROXY_GRAPH_SCOPES)  # as after a first App Proxy visit
    assert "Not checked yet" in technician.get("/tenants/health/").content.decode()
    response = technician.post("/tenants/health/refresh/")
    assert response.status_code == 302
    home = snapshot(HOME)
    assert home.ok and (home.exchange_total, home.app_proxy_connectors) == counts_in(HOME)
    with tenant_scope(HOME):
        active = AppProxyConnector.objects.filter(status="active").count()
    assert home.groups_total == 1 and home.groups_at_risk == (1 if active < 2 else 0)
    fabrikam = snapshot(FABRIKAM)  # Intune Administrator only: Exchange read, App Proxy refused
    assert fabrikam.ok and fabrikam.exchange_total == counts_in(FABRIKAM)[0]
    assert fabrikam.app_proxy_connectors is None and "Application Administrator" in fabrikam.error
    assert not snapshot(NORTHWIND).ok and "AADSTS65001" in snapshot(NORTHWIND).error
    assert not snapshot(WOODGROVE).ok and "AADSTS50020" in snapshot(WOODGROVE).error
    page = technician.get("/tenants/health/").content.decode()
    assert page.count('data-testid="tenant-error"') == 3
    assert f'href="/t/{FABRIKAM}/exchange-connectors/"' in page
    # When each was checked: machine-readable, and to the minute for the eye.
    taken = home.taken_at
    assert f'<time datetime="{taken.isoformat()}">{taken:%Y-%m-%d %H:%M}</time>' in page


def test_without_app_proxy_consent_exchange_is_still_read(technician: Client, settings) -> None:
    settings.TENANT_REFRESH_CONCURRENCY = 1
    technician.post("/tenants/health/refresh/")
    home = snapshot(HOME)
    assert home.ok and home.exchange_total == counts_in(HOME)[0]
    assert home.app_proxy_connectors is None and "open the App Proxy pages once" in home.error


def test_one_batch_of_lists_and_one_of_members_per_tenant(technician: Client, settings) -> None:
    settings.TENANT_REFRESH_CONCURRENCY = 1
    consent_to(ADMIN, settings.APP_PROXY_GRAPH_SCOPES)
    RequestLog.objects.all().delete()
    technician.post("/tenants/health/refresh/")
    batches = RequestLog.objects.filter(path__endswith="/$batch", batch_request_id="")
    # Home: lists + members; Fabrikam: lists (App Proxy refused inside it); the others no call.
    assert batches.count() == 3
    assert (
        RequestLog.objects.filter(batch_request_id="").exclude(path__endswith="/$batch").count()
        == 0
    )


def test_the_page_reads_snapshots_only_and_filters_sorts_and_exports(
    technician: Client, settings
) -> None:
    settings.TENANT_REFRESH_CONCURRENCY = 1
    technician.post("/tenants/health/refresh/")
    RequestLog.objects.all().delete()
    page = technician.get("/tenants/health/", {"sort": "-exchange_total"}).content.decode()
    assert RequestLog.objects.count() == 0  # no Graph call to show it
    order = re.findall(r'<tr data-tenant="([^"]+)">', page)
    assert order[:2] in ([HOME, FABRIKAM], [FABRIKAM, HOME])
    problems = technician.get("/tenants/health/", {"problems": "on"}).content.decode()
    assert f'data-tenant="{NORTHWIND}"' in problems
    search = technician.get("/tenants/health/", {"q": "woodgrove"}).content.decode()
    assert re.findall(r'<tr data-tenant="([^"]+)">', search) == [WOODGROVE]
    csv = b"".join(technician.get("/tenants/health/", {"format": "csv"}).streaming_content).decode()
    lines = csv.strip().splitlines()
    assert lines[0].startswith("tenant_id,tenant,domain,exchange_unhealthy")
    assert len(lines) == 5 and any(line.startswith(NORTHWIND) for line in lines)


def test_readers_cannot_refresh(partner: None) -> None:
    reader = sign_in(Client(), "reader@sandbox.example")
    assert reader.post("/tenants/health/refresh/").status_code == 403
    assert ADMIN


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="worker threads need their own connections to a server database (SQLite's in-memory "
    "test database locks its tables across threads)",
)
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_refresh_gives_the_same_snapshots(partner: None, settings) -> None:
    settings.TENANT_REFRESH_CONCURRENCY = 4
    consent_to(ADMIN, settings.APP_PROXY_GRAPH_SCOPES)
    client = sign_in(Client(), ADMIN)
    client.post("/tenants/discover/")
    assert client.post("/tenants/health/refresh/").status_code == 302
    assert snapshot(HOME).ok and snapshot(HOME).exchange_total == counts_in(HOME)[0]
    assert snapshot(FABRIKAM).ok and not snapshot(NORTHWIND).ok and not snapshot(WOODGROVE).ok


def test_the_workers_share_the_requests_graph_deadline(technician: Client) -> None:
    """Each tenant's read runs in a worker thread under the deadline of the request that asked."""
    from graph.deadline import current_deadline, graph_deadline
    from graph.errors import GraphTimeout
    from tenants import services
    from tenants.models import ManagedTenant

    seen = []

    def graph_for_tenant(tenant_id: str, scopes: object) -> object:
        seen.append(current_deadline())
        raise GraphTimeout("Graph did not answer before the request's deadline.")

    tenants = list(ManagedTenant.objects.all())
    with graph_deadline(7) as deadline:
        outcomes = services.tenants_refresh(
            tenants=tenants, graph_for_tenant=graph_for_tenant, concurrency=4
        )
    assert len(seen) == len(tenants) == 4
    assert all(abs(found.expires_at - deadline.expires_at) < 0.5 for found in seen)
    assert all(outcome.read is None and "deadline" in outcome.error for outcome in outcomes)
    assert TenantSnapshot.objects.filter(ok=False).count() == 4


def test_past_its_start_by_a_refresh_reads_the_first_tenants_only(technician: Client) -> None:
    """Each worker starts one tenant, then none past `start_by`: the first ones, in order."""
    import time

    from graph.errors import GraphTimeout
    from tenants import services
    from tenants.models import ManagedTenant

    started = []

    def graph_for_tenant(tenant_id: str, scopes: object) -> object:
        started.append(tenant_id)
        raise GraphTimeout("Graph did not answer before the request's deadline.")

    tenants = list(ManagedTenant.objects.order_by("tenant_id"))
    outcomes = services.tenants_refresh(
        tenants=tenants,
        graph_for_tenant=graph_for_tenant,
        concurrency=2,
        start_by=time.monotonic() - 1,
    )

    first_two = [tenant.tenant_id for tenant in tenants[:2]]
    assert sorted(started) == sorted(first_two) and len(tenants) == 4
    assert [outcome.tenant_id for outcome in outcomes] == first_two
    assert TenantSnapshot.objects.count() == 2

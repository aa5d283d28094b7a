"""The overview: who is signed in, and both connector families at a glance."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import ADMIN, READER, consent_to
from tests.sandbox import factories

pytestmark = pytest.mark.django_db
DIRECTORY = ["https://graph.microsoft.com/Directory.ReadWrite.All"]


@pytest.fixture
def tenant() -> None:
    now = timezone.now()
    factories.exchange_connector(last_sync=now - timedelta(hours=1))
    factories.exchange_connector(last_sync=now - timedelta(days=2), status="disconnected")
    factories.exchange_connector(last_sync=now - timedelta(days=9), status="disconnected")
    lonely = factories.connector_group(name="Lonely")
    pair = factories.connector_group(name="Pair")
    factories.app_proxy_connector(group=lonely)
    factories.app_proxy_connector(group=pair)
    factories.app_proxy_connector(group=pair)


def card(html: str, name: str) -> str:
    start = html.index(f'data-testid="{name}"')
    return html[start : html.index("</section>", start)]


def test_exchange_health_at_a_glance_with_links_to_the_filtered_list(
    signed_in_client, tenant
) -> None:
    html = signed_in_client(READER).get("/").content.decode()
    exchange = card(html, "exchange-card")
    assert '<p class="big">3</p>' in exchange
    assert "Healthy</span> 1" in exchange and "Warning</span> 0" in exchange
    assert "Unhealthy</span> 2" in exchange and "Disconnected: 2" in exchange
    assert "?health=unhealthy" in exchange


def test_app_proxy_card_asks_for_consent_first_then_flags_thin_groups(
    signed_in_client, tenant
) -> None:
    before: Client = signed_in_client(ADMIN)
    assert "need the Directory.ReadWrite.All permission" in card(
        before.get("/").content.decode(), "app-proxy-card"
    )
    consent_to(ADMIN, DIRECTORY)  # as the App Proxy pages' consent screen does
    after: Client = signed_in_client(ADMIN)
    app_proxy = card(after.get("/").content.decode(), "app-proxy-card")
    assert '<p class="big">3</p>' in app_proxy
    assert "1 group with fewer than 2 active connectors" in app_proxy and "Lonely" in app_proxy
    assert "Pair" not in app_proxy


def test_a_graph_fault_on_one_card_leaves_the_page_and_names_the_request(
    signed_in_client, tenant, sandbox_faults, settings
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    sandbox_faults.install({"path": "/beta/deviceManagement/*", "fault": "503"})
    response = signed_in_client(READER).get("/")
    assert response.status_code == 200
    exchange = card(response.content.decode(), "exchange-card")
    assert "Graph is unavailable right now (HTTP 503)" in exchange
    assert "Graph request id:" in exchange

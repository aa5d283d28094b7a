"""The Exchange connector list: what an admin sees, filters, sort, CSV, and Graph round trips."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry
from sandbox.models import ExchangeConnector
from tests.conftest import ADMIN, consent_to
from tests.connectors.support import forget_graph_calls, graph_calls
from tests.sandbox import factories

pytestmark = pytest.mark.django_db
URL = "/exchange-connectors/"


def rows_of(response) -> list[str]:
    """The server names in the table, in order."""
    html = response.content.decode()
    return [part.split('"')[0] for part in html.split('data-connector="')[1:]]


@pytest.fixture
def tenant() -> dict[str, ExchangeConnector]:
    now = timezone.now()
    return {
        "fresh": factories.exchange_connector(
            server_name="EXCH-A.contoso.local",
            status="connected",
            last_sync=now - timedelta(hours=2),
            primary_smtp_address="alpha@contoso.com",
            version="15.2.1118.7",
        ),
        "stale": factories.exchange_connector(
            server_name="EXCH-B.contoso.local",
            status="connected",
            last_sync=now - timedelta(days=2),
            exchange_organization="Fabrikam",
            version="15.2.986.5",
        ),
        "dead": factories.exchange_connector(
            server_name="EXCH-C.contoso.local",
            status="connectionPending",
            last_sync=now - timedelta(days=5),
            exchange_connector_type="hosted",
            version="15.10.1.0",
        ),
    }


def test_admin_sees_every_connector_with_status_health_and_controls(
    admin_client: Client, tenant
) -> None:
    response = admin_client.get(URL)
    html = response.content.decode().replace("\xa0", " ")
    assert response.status_code == 200
    assert rows_of(response) == [
        "EXCH-A.contoso.local",
        "EXCH-B.contoso.local",
        "EXCH-C.contoso.local",
    ]
    assert ">Connected<" in html and ">Connection pending<" in html
    assert ">Healthy<" in html and ">Warning<" in html and ">Unhealthy<" in html
    assert "2 hours ago" in html
    assert "Quick sync" in html and ">Edit<" in html and ">Delete<" in html
    assert "out of support" in html


def test_reader_sees_no_controls(reader_client: Client, tenant) -> None:
    html = reader_client.get(URL).content.decode()
    assert "EXCH-A.contoso.local" in html
    for control in ("Quick sync", ">Edit<", ">Delete<", "Sync selected", "New connector"):
        assert control not in html


def test_operator_sees_sync_but_not_edit(operator_client: Client, tenant) -> None:
    html = operator_client.get(URL).content.decode()
    assert "Quick sync" in html and "Sync selected" in html
    assert ">Edit<" not in html and ">Delete<" not in html and "New connector" not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "connected"}, ["EXCH-A.contoso.local", "EXCH-B.contoso.local"]),
        ({"type": "hosted"}, ["EXCH-C.contoso.local"]),
        ({"health": "unhealthy"}, ["EXCH-C.contoso.local"]),
        ({"health": "warning"}, ["EXCH-B.contoso.local"]),
        ({"q": "alpha@"}, ["EXCH-A.contoso.local"]),
        ({"q": "fabrikam"}, ["EXCH-B.contoso.local"]),
        (
            {"sort": "-serverName"},
            ["EXCH-C.contoso.local", "EXCH-B.contoso.local", "EXCH-A.contoso.local"],
        ),
        (
            {"sort": "lastSyncDateTime"},
            ["EXCH-C.contoso.local", "EXCH-B.contoso.local", "EXCH-A.contoso.local"],
        ),
        (
            {"sort": "-version"},
            ["EXCH-C.contoso.local", "EXCH-A.contoso.local", "EXCH-B.contoso.local"],
        ),
    ],
)
def test_filters_search_and_sort(admin_client: Client, tenant, query, expected) -> None:
    assert rows_of(admin_client.get(URL, query)) == expected


def test_filters_with_no_match_say_so(admin_client: Client, tenant) -> None:
    html = admin_client.get(URL, {"q": "nothing-like-this"}).content.decode()
    assert "No connector matches these filters" in html


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"type": "unknown"},
        {"health": "x"},
        {"sort": "password"},
        {"page": "-1"},
        {"q": "x" * 201},
    ],
)
def test_bad_filters_are_a_clear_400_and_nothing_is_asked_of_graph(
    admin_client: Client, tenant, query
) -> None:
    forget_graph_calls()
    response = admin_client.get(URL, query)
    assert response.status_code == 400
    assert "These filters are not valid" in response.content.decode()
    assert graph_calls() == []


def test_htmx_request_gets_only_the_results(admin_client: Client, tenant) -> None:
    response = admin_client.get(URL, {"type": "hosted"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and "EXCH-C.contoso.local" in html
    assert "EXCH-B.contoso.local" not in html
    assert response["Vary"].count("HX-Request") == 1


def test_filter_state_lives_in_the_url(admin_client: Client, tenant) -> None:
    html = admin_client.get(URL, {"status": "disconnected", "q": "exch"}).content.decode()
    assert 'hx-push-url="true"' in html
    assert '<option value="disconnected" selected>' in html
    assert 'value="exch"' in html
    # Column sort links keep the filters.
    assert (
        "?status=disconnected&amp;q=exch&amp;sort=serverName" in html
        or "status=disconnected" in html
    )


def test_csv_export_has_the_same_rows_as_the_filtered_page(admin_client: Client, tenant) -> None:
    page = admin_client.get(URL, {"health": "warning"})
    response = admin_client.get(URL, {"health": "warning", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["serverName"] for row in rows] == rows_of(page)
    assert rows[0]["status"] == "connected" and rows[0]["health"] == "warning"


def test_csv_neutralizes_formulas(admin_client: Client) -> None:
    factories.exchange_connector(
        server_name="EXCH-F.contoso.local", exchange_organization="=HYPERLINK(1)"
    )
    response = admin_client.get(URL, {"format": "csv"})
    text = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK(1)" in text


def test_values_the_dashboard_does_not_know_are_shown_as_they_are(admin_client: Client) -> None:
    factories.exchange_connector(server_name="EXCH-U.contoso.local", status="unknownFutureValue")
    factories.exchange_connector(
        server_name="EXCH-V.contoso.local",
        status="quarantined",
        exchange_connector_type="cloudNative",
    )
    response = admin_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Unknown future value" in html
    assert ">quarantined<" in html and "cloudNative" in html


def test_empty_tenant_explains_the_end_of_support(admin_client: Client) -> None:
    html = admin_client.get(URL).content.decode()
    assert 'data-testid="empty-state"' in html
    assert "ended its support" in html


def test_the_end_of_support_banner_can_be_dismissed(admin_client: Client) -> None:
    response = admin_client.post(f"{URL}dismiss-banner/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.content == b""
    assert "out of support" not in admin_client.get(URL).content.decode()


def test_listing_costs_one_get_per_graph_page_never_one_per_row(admin_client: Client) -> None:
    factories.exchange_connectors(250)
    forget_graph_calls()
    response = admin_client.get(URL)
    assert response.status_code == 200
    calls = graph_calls()
    assert [call.method for call in calls] == ["GET", "GET", "GET"]  # ceil(250 / 100)
    assert all(call.path.endswith("/exchangeConnectors") for call in calls)
    assert "250 connectors" in response.content.decode()


def test_the_list_pages_locally_fifty_rows_at_a_time(admin_client: Client) -> None:
    factories.exchange_connectors(120)
    first = admin_client.get(URL)
    third = admin_client.get(URL, {"page": 3})
    assert len(rows_of(first)) == 50 and len(rows_of(third)) == 20
    assert "Page 3 of 3" in third.content.decode()


def test_a_graph_outage_on_the_list_names_the_request_id(
    admin_client: Client, sandbox_faults, settings
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    sandbox_faults.install({"path": "/beta/deviceManagement/exchangeConnectors", "fault": "503"})
    response = admin_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 503
    assert "Graph is unavailable right now (HTTP 503)" in html
    assert "Graph request id:" in html
    assert not AuditEntry.objects.exists()  # a read is not audited


def test_a_graph_outage_on_an_htmx_request_is_a_toast_not_a_swap(
    admin_client: Client, sandbox_faults, settings
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    sandbox_faults.install({"path": "/beta/deviceManagement/exchangeConnectors", "fault": "500"})
    response = admin_client.get(URL, headers={"HX-Request": "true"})
    assert response.status_code == 502
    assert response.content == b""
    assert "Graph request id" in response["HX-Trigger"]


@pytest.mark.parametrize("url", ["/exchange-connectors/", "/app-proxy/connectors/"])
def test_a_page_past_the_end_shows_the_last_page_and_says_so(
    admin_client: Client, url: str
) -> None:
    """Issue 13, item 10: a bookmark of page 2 after the list shrank is never silently page 1."""
    consent_to(ADMIN, ["https://graph.microsoft.com/Directory.ReadWrite.All"])
    factories.exchange_connector()
    factories.app_proxy_connector()

    plain = admin_client.get(url, {"page": 2})
    htmx = admin_client.get(url, {"page": 2}, headers={"HX-Request": "true"})

    said = "There is no page 2: the list has 1 page. This is page 1."
    assert plain.status_code == 200 and said in plain.content.decode()
    assert htmx.status_code == 200 and said in htmx["HX-Trigger"]

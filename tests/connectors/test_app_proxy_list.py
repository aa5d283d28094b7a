"""The App Proxy connector list and grouped view: what an admin sees, filters, CSV, round trips."""

from __future__ import annotations

import csv
import io
import math

import pytest
from django.test import Client

from tests.conftest import ADMIN, OPERATOR, READER, consent_to
from tests.connectors.support import forget_graph_calls, graph_calls
from tests.sandbox import factories

pytestmark = pytest.mark.django_db
URL = "/app-proxy/connectors/"
DIRECTORY = ["https://graph.microsoft.com/Directory.ReadWrite.All"]


@pytest.fixture(autouse=True)
def consented() -> None:
    for upn in (ADMIN, OPERATOR, READER):
        consent_to(upn, DIRECTORY)


@pytest.fixture
def tenant() -> dict[str, object]:
    default = factories.connector_group(name="Default", is_default=True)
    east = factories.connector_group(name="East", region="eur")
    sync = factories.connector_group(
        name="Private access", connector_group_type=factories.FUTURE_GROUP_TYPE
    )
    return {
        "default": default,
        "east": east,
        "sync": sync,
        "a": factories.app_proxy_connector(
            machine_name="APPPROXY-A.contoso.local", group=default, version="1.5.3437.0"
        ),
        "b": factories.app_proxy_connector(
            machine_name="APPPROXY-B.contoso.local",
            group=default,
            external_ip="2001:db8::10",
            version="1.5.3437.0",
        ),
        "c": factories.app_proxy_connector(
            machine_name="APPPROXY-C.contoso.local",
            group=east,
            status="inactive",
            external_ip="198.51.100.7",
            version="1.5.2000.0",
        ),
    }


def rows_of(response) -> list[str]:
    html = response.content.decode()
    return [part.split('"')[0] for part in html.split('data-connector="')[1:]]


def test_admin_sees_each_connector_with_ip_status_version_group_and_controls(
    admin_client: Client, tenant
) -> None:
    response = admin_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert rows_of(response) == [
        "APPPROXY-A.contoso.local",
        "APPPROXY-B.contoso.local",
        "APPPROXY-C.contoso.local",
    ]
    assert "2001:db8::10" in html and "198.51.100.7" in html
    assert ">Active<" in html and ">Inactive<" in html and "1.5.2000.0" in html
    assert ">East</a>" in html and ">Edit<" in html and ">Move<" in html


@pytest.mark.parametrize("fixture", ["reader_client", "operator_client"])
def test_reader_and_operator_see_no_controls(request, tenant, fixture: str) -> None:
    html = request.getfixturevalue(fixture).get(URL).content.decode()
    assert "APPPROXY-A.contoso.local" in html
    assert ">Edit<" not in html and ">Move<" not in html


def test_grouped_view_shows_health_per_group_and_warns_below_two_active(
    admin_client: Client, tenant
) -> None:
    html = admin_client.get(URL, {"view": "groups"}).content.decode()
    sections = html.split('data-testid="group" ')[1:]
    names = [section.split('data-group="')[1].split('"')[0] for section in sections]
    assert names == ["Default", "East", "Private access"]
    default, east, sync = sections
    assert "2 active · 0 inactive" in default and 'data-testid="group-warning"' not in default
    assert 'data-testid="default"' in default
    assert "0 active · 1 inactive" in east and "Fewer than 2 active connectors" in east
    assert "Private access" in sync and "No connectors in this group." in sync
    assert factories.FUTURE_GROUP_TYPE in sync  # a type the dashboard does not know, as sent
    assert 'data-testid="group-warning"' not in sync  # not an App Proxy group


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "appproxy-b"}, ["APPPROXY-B.contoso.local"]),
        ({"q": "198.51"}, ["APPPROXY-C.contoso.local"]),
        ({"status": "inactive"}, ["APPPROXY-C.contoso.local"]),
        ({"version": "1.5.3437.0"}, ["APPPROXY-A.contoso.local", "APPPROXY-B.contoso.local"]),
        (
            {"sort": "-machineName"},
            ["APPPROXY-C.contoso.local", "APPPROXY-B.contoso.local", "APPPROXY-A.contoso.local"],
        ),
        (
            {"sort": "externalIp"},
            ["APPPROXY-C.contoso.local", "APPPROXY-A.contoso.local", "APPPROXY-B.contoso.local"],
        ),
    ],
)
def test_search_filters_and_sort(admin_client: Client, tenant, query, expected) -> None:
    assert rows_of(admin_client.get(URL, query)) == expected


def test_group_filter(admin_client: Client, tenant) -> None:
    response = admin_client.get(URL, {"group": tenant["east"].id})
    assert rows_of(response) == ["APPPROXY-C.contoso.local"]


def test_htmx_gets_only_the_results_and_the_state_stays_in_links(
    admin_client: Client, tenant
) -> None:
    response = admin_client.get(URL, {"status": "active"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and 'data-testid="count"' in html
    assert "status=active&amp;format=csv" in html
    assert response["Vary"].count("HX-Request") == 1


def test_bad_filters_are_a_400_and_nothing_is_asked_of_graph(admin_client: Client, tenant) -> None:
    forget_graph_calls()
    response = admin_client.get(URL, {"status": "String", "sort": "drop table"})
    assert response.status_code == 400
    assert "These filters are not valid" in response.content.decode()
    assert graph_calls() == []


def test_csv_export_follows_the_filters(admin_client: Client, tenant) -> None:
    response = admin_client.get(URL, {"status": "active", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="app-proxy-connectors-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["machineName"] for row in rows] == [
        "APPPROXY-A.contoso.local",
        "APPPROXY-B.contoso.local",
    ]
    assert rows[0]["groupName"] == "Default" and rows[1]["externalIp"] == "2001:db8::10"


@pytest.mark.parametrize("groups", [3, 45])
def test_grouped_view_round_trips_are_bounded_however_many_groups(
    admin_client: Client, groups: int
) -> None:
    for number in range(groups):
        group = factories.connector_group(name=f"Region {number:02d}")
        factories.app_proxy_connector(group=group)
        factories.app_proxy_connector(group=group)
    forget_graph_calls()
    response = admin_client.get(URL, {"view": "groups"})
    assert response.status_code == 200
    top_level = [call for call in graph_calls() if not call.batch_request_id]
    batches = [call for call in top_level if call.path.endswith("/$batch")]
    # One GET of the groups, one of the connectors (100 per page), ceil(groups / 20) $batch POSTs.
    assert len(top_level) == 1 + math.ceil(2 * groups / 100) + math.ceil(groups / 20)
    assert len(batches) == math.ceil(groups / 20)
    # Each group's members were read inside a batch, never as a request of their own.
    assert not [call for call in top_level if call.path.endswith("/members")]
    assert response.content.decode().count('data-testid="group" ') == groups


def test_empty_tenant_explains_how_connectors_appear(admin_client: Client) -> None:
    html = admin_client.get(URL).content.decode()
    assert 'data-testid="empty-state"' in html


def test_graph_refusing_the_list_names_the_missing_permission(signed_in_client) -> None:
    consent_to("limited@sandbox.example", DIRECTORY)
    response = signed_in_client("limited@sandbox.example").get(URL)
    html = response.content.decode()
    assert response.status_code == 403
    assert "Directory.ReadWrite.All" in html and "Graph request id:" in html


@pytest.mark.parametrize(
    ("rule", "status", "text"),
    [
        ({"fault": "500"}, 502, "Graph is unavailable"),
        ({"fault": "503"}, 503, "Graph is unavailable"),
        ({"fault": "429", "retry_after": 9}, 503, "Try again in 9 seconds"),
    ],
)
def test_graph_faults_on_the_list_are_explained_with_the_request_id(
    admin_client: Client, tenant, sandbox_faults, settings, rule, status, text
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    sandbox_faults.install({"method": "GET", "path": "/beta/onPremises*", **rule})
    response = admin_client.get(URL)
    html = response.content.decode()
    assert response.status_code == status
    assert text in html and "request id" in html

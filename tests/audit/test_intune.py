"""Intune's audit events beside the dashboard's own: filters, paging, detail, faults."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.conf import settings
from django.test import Client

from audit.models import AuditEntry
from kernel import identity
from sandbox.models import AuditEvent, RequestLog
from sandbox.tenant import audit_event_create, exchange_connector_create
from tests.audit.conftest import audited_patch, fixed_token_graph
from tests.conftest import ADMIN, HomeTenantClient, home_tenant_path, sign_in

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
AUDIT_PATH = "/beta/deviceManagement/auditEvents*"


def event_ids(response) -> list[str]:
    return re.findall(r'data-event-id="([^"]+)"', response.content.decode())


def link(response, text: str, base: str = "/audit/intune/") -> str:
    """The URL the link with this text leads to, resolved against the page as a browser would."""
    match = re.search(rf'<a href="([^"]+)"[^>]*>{re.escape(text)}</a>', response.content.decode())
    assert match, f"no link {text!r}"
    return urljoin(base, html.unescape(match.group(1)))


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 2, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def events() -> dict[str, AuditEvent]:
    return {
        "role": audit_event_create(
            category="Role",
            activity="Create RoleDefinition",
            activity_type="Create RoleDefinition",
            activity_date_time=at(1),
        ),
        "patch": audit_event_create(
            category="Other",
            activity="Patch DeviceManagementExchangeConnector",
            activity_type="Patch DeviceManagementExchangeConnector",
            activity_date_time=at(2),
            actor={"userPrincipalName": "ada@contoso.example", "ipAddress": "198.51.100.9"},
            resources=[
                {
                    "displayName": "EXCH01",
                    "auditResourceType": "DeviceManagementExchangeConnector",
                    "resourceId": "ex-1",
                    "modifiedProperties": [
                        {"displayName": "version", "oldValue": "15.1", "newValue": "15.2"},
                        {"displayName": "status", "oldValue": "connected", "newValue": ""},
                    ],
                }
            ],
        ),
        "sync": audit_event_create(
            category="Other",
            activity="Sync DeviceManagementExchangeConnector",
            activity_type="Sync DeviceManagementExchangeConnector",
            activity_date_time=at(3),
        ),
    }


def test_the_list_shows_intunes_events_newest_first(
    admin_client: Client, events: dict[str, AuditEvent]
) -> None:
    response = admin_client.get("/audit/intune/")
    page = response.content.decode()
    assert response.status_code == 200
    assert event_ids(response) == [events[name].id for name in ("sync", "patch", "role")]
    assert "ada@contoso.example" in page
    assert "EXCH01" in page and "(2 changes)" in page
    assert '<option value="Role">Role</option>' in page
    assert "Graph request id of this page" in page
    htmx = admin_client.get("/audit/intune/", headers=HX)
    assert htmx.content.decode().lstrip().startswith('<section id="intune-events"')
    assert "<html" not in htmx.content.decode()
    assert event_ids(htmx) == event_ids(response)


def test_the_list_is_reached_from_the_dashboards_audit_log(reader_client: Client) -> None:
    assert link(reader_client.get("/audit/"), "Intune's own audit events") == "/audit/intune/"
    assert reader_client.get("/audit/intune/").status_code == 200


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "Other"}, ["sync", "patch"]),
        (
            {"category": "Other", "activity_type": "Sync DeviceManagementExchangeConnector"},
            ["sync"],
        ),
        ({"date_from": "2026-02-02", "date_to": "2026-02-02"}, ["patch"]),
        ({"date_from": "2026-02-02"}, ["sync", "patch"]),
        ({"date_to": "2026-02-01"}, ["role"]),
    ],
)
def test_filters_are_sent_to_graph(
    admin_client: Client,
    events: dict[str, AuditEvent],
    query: dict[str, str],
    expected: list[str],
) -> None:
    plain = admin_client.get("/audit/intune/", query)
    htmx = admin_client.get("/audit/intune/", query, headers=HX)
    assert plain.status_code == htmx.status_code == 200
    assert event_ids(plain) == event_ids(htmx) == [events[name].id for name in expected]
    [listing] = RequestLog.objects.filter(path__endswith="/auditEvents").order_by("-id")[:1]
    assert "%24filter=" in listing.query or "$filter=" in listing.query


def test_the_activity_type_dropdown_follows_the_category(
    admin_client: Client, events: dict[str, AuditEvent]
) -> None:
    # htmx asks for the dropdown when the category changes...
    fragment = admin_client.get(
        "/audit/intune/activity-types/", {"category": "Other"}, headers=HX
    ).content.decode()
    assert fragment.lstrip().startswith('<div class="audit-filter" id="intune-activity-type">')
    assert '<option value="Sync DeviceManagementExchangeConnector">' in fragment
    assert "Create RoleDefinition" not in fragment
    # ...and without JavaScript the page fills it for the submitted category.
    page = admin_client.get("/audit/intune/", {"category": "Role"}).content.decode()
    assert '<option value="Create RoleDefinition">' in page
    # Before a category is chosen the dropdown says what to do (issue 13, item 8).
    first = admin_client.get("/audit/intune/").content.decode()
    assert '<option value="" selected>Choose a category first</option>' in first
    assert '<option value="Role" selected>' in page


def test_paging_follows_graphs_next_link(admin_client: Client) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(
            activity=f"Event {n:03d}",
            display_name=f"Event {n:03d}",
            activity_date_time=at(1) + dt.timedelta(minutes=n),
            category="Other",
        )
        for n in range(120)
    )
    first = admin_client.get("/audit/intune/", {"category": "Other"})
    assert len(event_ids(first)) == 50
    assert "Event 119" in first.content.decode()
    next_url = link(first, "Next page")
    query = parse_qs(urlsplit(next_url).query)
    assert query["category"] == ["Other"] and query["page"] == ["2"]
    assert query["next"][0].startswith("https://graph.sandbox.localhost/beta/deviceManagement/")

    second = admin_client.get(next_url, headers=HX)
    assert len(event_ids(second)) == 50
    assert set(event_ids(second)).isdisjoint(event_ids(first))
    assert "Page 2 · 50 events" in second.content.decode()

    third = admin_client.get(link(second, "Next page"))
    assert len(event_ids(third)) == 20
    assert "Event 000" in third.content.decode()
    assert "Next page" not in third.content.decode()
    assert link(third, "First page") == "/audit/intune/?category=Other"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date_from": "02/30/2026"}, "Enter a valid date."),
        ({"date_from": "2026-02-05", "date_to": "2026-02-01"}, "before the start date"),
        ({"category": "NoSuchCategory"}, "Select a valid choice."),
        ({"category": "Other", "activity_type": "Launch Rocket"}, "Select a valid choice."),
        (
            {"next": "https://evil.example/beta/deviceManagement/auditEvents?$skiptoken=1"},
            "does not lead to Intune",
        ),
    ],
)
def test_bad_filters_get_a_clear_error(
    admin_client: Client, events: dict[str, AuditEvent], query: dict[str, str], message: str
) -> None:
    response = admin_client.get("/audit/intune/", query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert event_ids(response) == []
    htmx = admin_client.get("/audit/intune/", query, headers=HX)
    assert htmx.status_code == 422
    assert message in htmx.content.decode()


def test_the_detail_shows_modified_properties(
    admin_client: Client, events: dict[str, AuditEvent]
) -> None:
    response = admin_client.get(f"/audit/intune/{events['patch'].id}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(
        r'<th scope="row"><code>version</code></th><td class="diff-before">15.1</td>'
        r'<td class="diff-after">15.2</td>',
        page,
    )
    assert "DeviceManagementExchangeConnector" in page
    assert "198.51.100.9" in page


def test_a_local_entry_and_intunes_event_link_to_each_other(
    admin_client: Client, graph_token: Callable[..., str]
) -> None:
    connector = exchange_connector_create(server_name="EXCH01.contoso.local")
    audited_patch(fixed_token_graph(graph_token(ADMIN)), connector.id, {"version": "15.9"})
    attempt = AuditEntry.objects.order_by("id").first()
    event = AuditEvent.objects.get(correlation_id=str(attempt.correlation_id))

    # The local detail page offers the link (htmx fills it in on load)...
    detail = admin_client.get(f"/audit/{attempt.pk}/")
    assert link(detail, "Find Intune's audit event with this correlation id") == (
        f"/audit/intune/for/{attempt.pk}/"
    )
    found = admin_client.get(f"/audit/intune/for/{attempt.pk}/", headers=HX)
    # Intune's events belong to a tenant: the link stays in the home tenant's pages.
    assert f'<a href="{home_tenant_path(f"/audit/intune/{event.id}/")}">' in found.content.decode()
    # ...and without JavaScript the link goes straight to Intune's event.
    plain = admin_client.get(f"/audit/intune/for/{attempt.pk}/")
    assert (plain.status_code, plain["Location"]) == (302, f"/audit/intune/{event.id}/")

    # Intune's side links back to the local entry, in the list and on the detail.
    listing = admin_client.get("/audit/intune/")
    assert (
        link(listing, f"Dashboard entry #{attempt.pk}")
        == f"/t/{settings.ENTRA_TENANT_ID}/audit/{attempt.pk}/"
    )
    intune_detail = admin_client.get(f"/audit/intune/{event.id}/")
    assert link(intune_detail, f"The dashboard's audit entry #{attempt.pk}") == (
        f"/t/{settings.ENTRA_TENANT_ID}/audit/{attempt.pk}/"
    )


def test_a_local_entry_without_an_intune_event_says_so(
    admin_client: Client, record_action: Any
) -> None:
    attempt = record_action()
    htmx = admin_client.get(f"/audit/intune/for/{attempt.pk}/", headers=HX)
    assert "Intune has no audit event with correlation id" in htmx.content.decode()
    plain = admin_client.get(f"/audit/intune/for/{attempt.pk}/")
    assert plain.status_code == 200
    assert "Intune has no audit event with correlation id" in plain.content.decode()
    assert admin_client.get("/audit/intune/for/987654/").status_code == 404


# -- Graph faults: a message naming Graph's request id, never a 500 --------------------------


def last_graph_request_id() -> str:
    return RequestLog.objects.filter(path__contains="/auditEvents").latest("id").request_id


def test_an_expired_session_is_sent_to_sign_in_again(admin_client: Client) -> None:
    session = admin_client.session
    del session[identity.CACHE_KEY]
    session.save()
    plain = admin_client.get("/audit/intune/?category=Other")
    assert plain.status_code == 302
    assert plain["Location"].startswith("/auth/sign-in/?next=/audit/intune/")
    htmx = admin_client.get(
        "/audit/intune/",
        headers={**HX, "HX-Current-URL": "http://testserver/audit/intune/?category=Role"},
    )
    assert htmx["HX-Redirect"].startswith("/auth/sign-in/?next=/audit/intune/")


def test_a_403_names_the_missing_permission_and_the_request_id(settings: Any) -> None:
    # An admin who never consented to the Apps scope: Graph refuses the audit reads.
    settings.GRAPH_SCOPES = [
        "https://graph.microsoft.com/DeviceManagementServiceConfig.ReadWrite.All"
    ]
    client = sign_in(HomeTenantClient(), ADMIN)
    response = client.get("/audit/intune/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "DeviceManagementApps.Read.All" in page
    assert f"Graph request id: {last_graph_request_id()}" in page
    htmx = client.get("/audit/intune/", headers=HX)
    assert htmx.status_code == 403
    assert "DeviceManagementApps.Read.All" in htmx["HX-Trigger"]


def test_an_unknown_event_is_a_404_with_the_request_id(admin_client: Client) -> None:
    response = admin_client.get("/audit/intune/no-such-event/")
    assert response.status_code == 404
    assert "Graph has no such object" in response.content.decode()
    assert f"Graph request id: {last_graph_request_id()}" in response.content.decode()


@pytest.mark.parametrize(
    ("fault", "status", "message"),
    [
        ({"fault": "429", "retry_after": 120}, 503, "Graph is throttling requests"),
        ({"fault": "503", "retry_after": None}, 503, "Graph is unavailable right now (HTTP 503)"),
        ({"fault": "500"}, 502, "Graph is unavailable right now (HTTP 500)"),
    ],
)
def test_graph_faults_are_a_clear_message_not_a_500(
    admin_client: Client,
    events: dict[str, AuditEvent],
    sandbox_faults: Any,
    fault: dict[str, Any],
    status: int,
    message: str,
    settings: Any,
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1  # little room for retries
    sandbox_faults.install({"path": AUDIT_PATH, **fault})
    response = admin_client.get("/audit/intune/")
    page = response.content.decode()
    assert response.status_code == status
    assert message in page
    assert re.search(r"Graph request id: [0-9a-f-]{36}\.", page)
    # The one fault page links back to the same listing, so the admin can try again.
    assert f'<a href="{home_tenant_path("/audit/intune/")}">Try again</a>' in page
    htmx = admin_client.get("/audit/intune/", headers=HX)
    assert htmx.status_code == status
    assert message in htmx["HX-Trigger"]


def test_a_timeout_says_graph_did_not_answer(
    admin_client: Client, sandbox_faults: Any, short_graph_timeout: float, settings: Any
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    sandbox_faults.install({"path": AUDIT_PATH, "fault": "delay", "seconds": 5})
    response = admin_client.get("/audit/intune/")
    assert response.status_code == 504
    assert "Graph did not answer in time" in response.content.decode()


def test_a_fault_while_looking_for_intunes_event_stays_inside_the_detail_page(
    admin_client: Client, record_action: Any, sandbox_faults: Any, settings: Any
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    attempt = record_action()
    sandbox_faults.install({"path": AUDIT_PATH, "fault": "500"})
    htmx = admin_client.get(f"/audit/intune/for/{attempt.pk}/", headers=HX)
    body = htmx.content.decode()
    assert htmx.status_code == 200
    assert "Intune's audit events could not be searched" in html.unescape(body)
    assert f"Graph request id: {last_graph_request_id()}" in body
    plain = admin_client.get(f"/audit/intune/for/{attempt.pk}/")
    assert plain.status_code == 502

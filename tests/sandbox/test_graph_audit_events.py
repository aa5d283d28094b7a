"""The sandbox's Intune audit events: list, get, filter, and the two catalogue functions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from sandbox.tenant import audit_event_create
from tests.sandbox.factories import exchange_connector
from tests.sandbox.graph_support import AUDIT, EXCHANGE, Caller, assert_graph_error, caller

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(graph_token: Callable[..., str]) -> Caller:
    return caller(graph_token)


def test_list_and_get_audit_events(admin: Caller) -> None:
    event = audit_event_create(category="Role", activity="Create RoleDefinition")

    listed = admin.get(AUDIT).json()
    single = admin.get(f"{AUDIT}/{event.id}").json()

    assert listed["@odata.context"].endswith("$metadata#deviceManagement/auditEvents")
    [item] = listed["value"]
    assert item["@odata.type"] == "#microsoft.graph.auditEvent"
    assert (item["id"], item["category"], item["activity"]) == (
        event.id,
        "Role",
        "Create RoleDefinition",
    )
    assert single["@odata.context"].endswith("auditEvents/$entity")
    assert single["correlationId"] == event.correlation_id


def test_get_of_an_unknown_event_is_404(admin: Caller) -> None:
    assert_graph_error(admin.get(f"{AUDIT}/missing"), 404, "ResourceNotFound")


def test_writes_show_up_as_audit_events_with_actor_and_resources(admin: Caller) -> None:
    connector = exchange_connector()
    admin.patch(
        f"{EXCHANGE}/{connector.id}",
        json={"version": "2.0"},
        headers={"client-request-id": "0f0f0f0f-0000-4000-8000-000000000001"},
    )

    [event] = admin.get(AUDIT).json()["value"]

    assert event["correlationId"] == "0f0f0f0f-0000-4000-8000-000000000001"
    assert event["activityType"] == "Patch DeviceManagementExchangeConnector"
    assert event["actor"]["userPrincipalName"] == "admin@sandbox.example"
    assert event["resources"][0]["auditResourceType"] == "DeviceManagementExchangeConnector"
    assert event["activityDateTime"].endswith("Z")


def test_filter_by_time_window_and_category_ordered_newest_first(admin: Caller) -> None:
    now = timezone.now()
    old = audit_event_create(category="Role", activity_date_time=now - timedelta(days=10))
    mid = audit_event_create(category="Role", activity_date_time=now - timedelta(days=2))
    new = audit_event_create(category="Role", activity_date_time=now - timedelta(hours=1))
    audit_event_create(category="Device", activity_date_time=now - timedelta(hours=2))
    since = (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = now.strftime("%Y-%m-%dT%H:%M:%SZ")

    response = admin.get(
        AUDIT,
        params={
            "$filter": f"activityDateTime gt {since} and activityDateTime le {until} "
            "and category eq 'Role'",
            "$orderby": "activityDateTime desc",
        },
    )

    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["value"]] == [new.id, mid.id]
    assert old.id not in response.text


def test_filter_by_activity_type_and_nested_actor(admin: Caller) -> None:
    mine = audit_event_create(
        activity_type="Delete ConnectorGroup", actor={"userPrincipalName": "ada@contoso.com"}
    )
    audit_event_create(activity_type="Delete ConnectorGroup", actor={"userPrincipalName": "bo@x"})

    response = admin.get(
        AUDIT,
        params={
            "$filter": "activityType eq 'Delete ConnectorGroup' and "
            "actor/userPrincipalName eq 'ada@contoso.com'"
        },
    )

    assert [item["id"] for item in response.json()["value"]] == [mine.id]


def test_audit_events_count(admin: Caller) -> None:
    for _ in range(3):
        audit_event_create(category="Device")

    assert admin.get(f"{AUDIT}/$count").text == "3"


@pytest.mark.parametrize("path", ["getAuditCategories()", "getAuditCategories"])
def test_get_audit_categories_with_and_without_parentheses(admin: Caller, path: str) -> None:
    audit_event_create(category="CustomCategory")

    response = admin.get(f"{AUDIT}/{path}")

    assert response.status_code == 200, response.text
    categories = response.json()["value"]
    assert {"Other", "Role", "CustomCategory"} <= set(categories)
    assert categories == sorted(categories)


def test_get_audit_activity_types_of_a_category(admin: Caller) -> None:
    audit_event_create(category="Role", activity_type="Create RoleDefinition")
    audit_event_create(category="Device", activity_type="Wipe ManagedDevice")

    role = admin.get(f"{AUDIT}/getAuditActivityTypes(category='Role')").json()["value"]
    other = admin.get(f"{AUDIT}/getAuditActivityTypes(category='Other')").json()["value"]

    assert role == ["Create RoleDefinition"]
    assert "Sync DeviceManagementExchangeConnector" in other


def test_audit_events_are_read_only(admin: Caller) -> None:
    assert_graph_error(admin.post(AUDIT, json={}), 405, "BadRequest")

"""The sandbox's Intune Exchange connector endpoints, called as the dashboard calls them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from sandbox.models import AuditEvent, ExchangeConnector
from tests.sandbox.factories import exchange_connector, exchange_connectors
from tests.sandbox.graph_support import EXCHANGE, Caller, assert_graph_error, caller, logged

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(graph_token: Callable[..., str]) -> Caller:
    return caller(graph_token)


ODATA_TYPE = "#microsoft.graph.deviceManagementExchangeConnector"


def test_list_is_a_graph_collection_with_typed_items_and_graph_headers(admin: Caller) -> None:
    connector = exchange_connector(server_name="EXCH01.contoso.local", status="disconnected")
    client_request_id = str(uuid.uuid4())

    response = admin.get(EXCHANGE, headers={"client-request-id": client_request_id})

    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"] == (
        "https://graph.sandbox.localhost/beta/$metadata#deviceManagement/exchangeConnectors"
    )
    assert "@odata.nextLink" not in body
    [item] = body["value"]
    assert item["@odata.type"] == ODATA_TYPE
    assert item["id"] == connector.id
    assert item["serverName"] == "EXCH01.contoso.local"
    assert item["status"] == "disconnected"
    assert item["lastSyncDateTime"].endswith("Z")
    assert response.headers["client-request-id"] == client_request_id
    uuid.UUID(response.headers["request-id"])
    assert response.headers["Date"]
    assert "ServerInfo" in response.headers["x-ms-ags-diagnostic"]


def test_a_fresh_client_request_id_is_made_when_the_caller_sends_none(admin: Caller) -> None:
    response = admin.get(EXCHANGE)

    uuid.UUID(response.headers["client-request-id"])
    assert response.headers["client-request-id"] != response.headers["request-id"]


def test_get_returns_the_bare_entity(admin: Caller) -> None:
    connector = exchange_connector(exchange_organization="Fabrikam")

    response = admin.get(f"{EXCHANGE}/{connector.id}")

    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"].endswith("#deviceManagement/exchangeConnectors/$entity")
    assert body["@odata.type"] == ODATA_TYPE
    assert body["exchangeOrganization"] == "Fabrikam"
    assert "value" not in body


def test_get_of_an_unknown_id_is_404_resource_not_found(admin: Caller) -> None:
    error = assert_graph_error(admin.get(f"{EXCHANGE}/no-such-id"), 404, "ResourceNotFound")
    assert "no-such-id" in error["message"]


def test_create_returns_201_with_a_server_assigned_id(admin: Caller) -> None:
    response = admin.post(
        EXCHANGE,
        json={
            "serverName": "EXCH09.contoso.local",
            "primarySmtpAddress": "svc@contoso.com",
            "exchangeConnectorType": "hosted",
            "status": "connectionPending",
        },
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["@odata.context"].endswith("/$entity")
    uuid.UUID(body["id"])
    stored = ExchangeConnector.objects.get(pk=body["id"])
    assert stored.server_name == "EXCH09.contoso.local"
    assert stored.exchange_connector_type == "hosted"
    assert response.headers["Location"].endswith(f"/exchangeConnectors/{body['id']}")


def test_update_changes_only_the_given_fields_and_returns_the_entity(admin: Caller) -> None:
    connector = exchange_connector(server_name="OLD.contoso.local", version="1.0")

    response = admin.patch(
        f"{EXCHANGE}/{connector.id}",
        json={"serverName": "NEW.contoso.local", "status": "unknownFutureValue"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["serverName"] == "NEW.contoso.local"
    connector.refresh_from_db()
    assert (connector.server_name, connector.status, connector.version) == (
        "NEW.contoso.local",
        "unknownFutureValue",
        "1.0",
    )


def test_delete_returns_204_and_the_connector_is_gone(admin: Caller) -> None:
    connector = exchange_connector()

    response = admin.delete(f"{EXCHANGE}/{connector.id}")

    assert response.status_code == 204
    assert response.content == b""
    assert admin.get(f"{EXCHANGE}/{connector.id}").status_code == 404


def test_delete_of_an_unknown_id_is_404(admin: Caller) -> None:
    assert_graph_error(admin.delete(f"{EXCHANGE}/nope"), 404, "ResourceNotFound")


# --- Sync ------------------------------------------------------------------------------------


def test_sync_is_204_and_lands_on_the_next_read(admin: Caller, settings) -> None:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 0
    long_ago = timezone.now() - timedelta(days=3)
    connector = exchange_connector(status="disconnected", last_sync=long_ago)
    requested = datetime.now(UTC)

    response = admin.post(f"{EXCHANGE}/{connector.id}/sync", json={"syncType": "deltaSync"})

    assert response.status_code == 204
    body = admin.get(f"{EXCHANGE}/{connector.id}").json()
    assert body["status"] == "connected"
    landed = datetime.fromisoformat(body["lastSyncDateTime"].replace("Z", "+00:00"))
    assert landed >= requested - timedelta(seconds=1)


def test_a_sync_does_not_land_before_its_delay(admin: Caller, settings) -> None:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 300
    long_ago = timezone.now() - timedelta(days=3)
    connector = exchange_connector(status="disconnected", last_sync=long_ago)

    admin.post(f"{EXCHANGE}/{connector.id}/sync", json={"syncType": "fullSync"})

    body = admin.get(f"{EXCHANGE}/{connector.id}").json()
    assert body["status"] == "disconnected"
    connector.refresh_from_db()
    assert connector.last_sync_date_time == long_ago
    assert connector.sync_type == "fullSync"


def test_a_broken_connector_accepts_the_sync_but_never_lands_it(admin: Caller, settings) -> None:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 0
    long_ago = timezone.now() - timedelta(days=30)
    broken = exchange_connector(status="disconnected", last_sync=long_ago, sync_broken=True)

    response = admin.post(f"{EXCHANGE}/{broken.id}/sync", json={"syncType": "fullSync"})

    assert response.status_code == 204
    listed = admin.get(EXCHANGE).json()["value"]
    [item] = [item for item in listed if item["id"] == broken.id]
    assert item["status"] == "disconnected"
    broken.refresh_from_db()
    assert broken.last_sync_date_time == long_ago


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({}, "syncType"),
        ({"syncType": "quickSync"}, "syncType"),
        ({"syncType": "unknownFutureValue"}, "syncType"),
        ({"syncType": "deltaSync", "force": True}, "force"),
    ],
)
def test_sync_refuses_a_bad_sync_type(admin: Caller, body: dict, target: str) -> None:
    connector = exchange_connector()

    error = assert_graph_error(
        admin.post(f"{EXCHANGE}/{connector.id}/sync", json=body), 400, "BadRequest"
    )

    assert error["target"] == target
    assert target in error["message"]


def test_sync_of_an_unknown_connector_is_404(admin: Caller) -> None:
    response = admin.post(f"{EXCHANGE}/nope/sync", json={"syncType": "deltaSync"})
    assert_graph_error(response, 404, "ResourceNotFound")


# --- Validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "target", "words"),
    [
        ({"status": "String"}, "status", "not valid"),
        ({"exchangeConnectorType": "cloud"}, "exchangeConnectorType", "not valid"),
        ({"colour": "blue"}, "colour", "does not exist"),
        ({"id": "mine"}, "id", "read-only"),
        ({"lastSyncDateTime": "yesterday"}, "lastSyncDateTime", "DateTimeOffset"),
        ({"lastSyncDateTime": "2026-01-09T10:00:00"}, "lastSyncDateTime", "DateTimeOffset"),
        ({"serverName": 42}, "serverName", "Edm.String"),
        ({"status": None}, "status", "cannot be null"),
    ],
)
def test_update_refuses_a_bad_property_naming_it(
    admin: Caller, body: dict, target: str, words: str
) -> None:
    connector = exchange_connector(server_name="KEEP.contoso.local")

    error = assert_graph_error(
        admin.patch(f"{EXCHANGE}/{connector.id}", json=body), 400, "BadRequest"
    )

    assert error["target"] == target
    assert f"'{target}'" in error["message"]
    assert words in error["message"]
    connector.refresh_from_db()
    assert connector.server_name == "KEEP.contoso.local"


def test_create_refuses_invalid_json(admin: Caller) -> None:
    response = admin.post(
        EXCHANGE, data=b'{"serverName": ', headers={"Content-Type": "application/json"}
    )

    error = assert_graph_error(response, 400, "BadRequest")
    assert "JSON" in error["message"]
    assert ExchangeConnector.objects.count() == 0


def test_create_refuses_a_value_outside_the_enum(admin: Caller) -> None:
    response = admin.post(EXCHANGE, json={"serverName": "X", "status": "String"})

    assert assert_graph_error(response, 400, "BadRequest")["target"] == "status"
    assert ExchangeConnector.objects.count() == 0


def test_a_valid_timestamp_with_an_offset_is_stored_in_utc(admin: Caller) -> None:
    connector = exchange_connector()

    response = admin.patch(
        f"{EXCHANGE}/{connector.id}", json={"lastSyncDateTime": "2026-01-09T12:00:00+02:00"}
    )

    assert response.json()["lastSyncDateTime"] == "2026-01-09T10:00:00Z"


def test_an_unsupported_method_is_405(admin: Caller) -> None:
    response = admin.request("PUT", EXCHANGE, json={})
    assert_graph_error(response, 405, "BadRequest")
    assert "POST" in response.headers["Allow"]


def test_an_unknown_segment_is_400_naming_it(admin: Caller) -> None:
    error = assert_graph_error(admin.get("deviceManagement/exchangeConectors"), 400, "BadRequest")
    assert "exchangeConectors" in error["message"]


# --- Collections: paging, $count, $filter, $orderby, $select ---------------------------------


def test_1050_connectors_page_by_100_in_exactly_11_requests(admin: Caller) -> None:
    exchange_connectors(1050)
    seen: list[str] = []
    url = f"{EXCHANGE}?$top=100"
    while url:
        body = admin.get(url).json()
        seen += [item["id"] for item in body["value"]]
        url = body.get("@odata.nextLink", "")
        if url:
            assert url.startswith("https://graph.sandbox.localhost/beta/")

    assert len(seen) == len(set(seen)) == 1050
    assert len(logged(EXCHANGE)) == 11


def test_the_default_page_size_is_a_setting(admin: Caller, settings) -> None:
    settings.SANDBOX_PAGE_SIZE = 3
    exchange_connectors(7)

    first = admin.get(EXCHANGE).json()
    second = admin.get(first["@odata.nextLink"]).json()
    third = admin.get(second["@odata.nextLink"]).json()

    assert [len(page["value"]) for page in (first, second, third)] == [3, 3, 1]
    assert "@odata.nextLink" not in third


def test_skip_and_count_true(admin: Caller) -> None:
    exchange_connectors(5)

    body = admin.get(EXCHANGE, params={"$skip": "3", "$count": "true"}).json()

    assert body["@odata.count"] == 5
    assert len(body["value"]) == 2


def test_a_tampered_skiptoken_is_400(admin: Caller) -> None:
    error = assert_graph_error(
        admin.get(EXCHANGE, params={"$skiptoken": "not-a-token"}), 400, "BadRequest"
    )
    assert error["target"] == "$skiptoken"


def test_dollar_count_is_a_plain_text_integer_honouring_the_filter(admin: Caller) -> None:
    exchange_connectors(4)
    exchange_connector(status="disconnected")

    everything = admin.get(f"{EXCHANGE}/$count")
    disconnected = admin.get(f"{EXCHANGE}/$count", params={"$filter": "status eq 'disconnected'"})

    assert everything.headers["Content-Type"].startswith("text/plain")
    assert (everything.text, disconnected.text) == ("5", "1")


def test_filter_on_status_timestamps_and_prefixes(admin: Caller) -> None:
    now = timezone.now()
    stale = exchange_connector(
        server_name="EXCH-OLD.contoso.local",
        status="disconnected",
        last_sync=now - timedelta(days=9),
    )
    fresh = exchange_connector(server_name="EXCH-NEW.contoso.local", last_sync=now)
    exchange_connector(server_name="MAIL01.fabrikam.local", last_sync=now)
    cutoff = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def ids(expression: str) -> set[str]:
        response = admin.get(EXCHANGE, params={"$filter": expression})
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["value"]}

    assert ids("status eq 'disconnected'") == {stale.id}
    assert ids(f"lastSyncDateTime lt {cutoff}") == {stale.id}
    assert ids(f"lastSyncDateTime ge {cutoff} and startswith(serverName, 'EXCH')") == {fresh.id}
    assert len(ids("status ne 'disconnected'")) == 2
    assert ids("startswith(serverName,'exch') and not (status eq 'connected')") == {stale.id}


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ("serverName has 'x'", "has"),
        ("endswith(serverName, 'x') or length(serverName) gt 3", "length"),
        ("colour eq 'blue'", "colour"),
        ("lastSyncDateTime gt 'yesterday'", "Edm.String"),
        ("status eq", "ends too early"),
        ("status eq 'x' ; drop", ";"),
    ],
)
def test_an_unsupported_filter_is_400_naming_the_culprit(
    admin: Caller, expression: str, named: str
) -> None:
    error = assert_graph_error(
        admin.get(EXCHANGE, params={"$filter": expression}), 400, "BadRequest"
    )
    assert named in error["message"]
    assert error["target"] == "$filter"


def test_orderby_sorts_ascending_and_descending(admin: Caller) -> None:
    for name in ("B.contoso.local", "C.contoso.local", "A.contoso.local"):
        exchange_connector(server_name=name)

    def names(orderby: str) -> list[str]:
        body = admin.get(EXCHANGE, params={"$orderby": orderby}).json()
        return [item["serverName"][0] for item in body["value"]]

    assert names("serverName") == ["A", "B", "C"]
    assert names("serverName desc") == ["C", "B", "A"]


def test_orderby_an_unknown_property_is_400(admin: Caller) -> None:
    response = admin.get(EXCHANGE, params={"$orderby": "colour desc"})
    assert "colour" in assert_graph_error(response, 400, "BadRequest")["message"]


def test_select_keeps_only_the_named_properties(admin: Caller) -> None:
    connector = exchange_connector()

    listed = admin.get(EXCHANGE, params={"$select": "status,serverName"}).json()
    single = admin.get(f"{EXCHANGE}/{connector.id}", params={"$select": "version"}).json()

    assert set(listed["value"][0]) == {"@odata.type", "id", "status", "serverName"}
    assert listed["@odata.context"].endswith("exchangeConnectors(status,serverName)")
    assert set(single) == {"@odata.context", "@odata.type", "id", "version"}


def test_an_unsupported_query_option_is_400(admin: Caller) -> None:
    error = assert_graph_error(admin.get(EXCHANGE, params={"$expand": "x"}), 400, "BadRequest")
    assert "$expand" in error["message"]


def test_a_negative_top_is_400(admin: Caller) -> None:
    assert_graph_error(admin.get(EXCHANGE, params={"$top": "-1"}), 400, "BadRequest")


# --- Audit trail of writes -------------------------------------------------------------------


def test_each_write_appends_an_intune_audit_event_with_the_correlation_id(admin: Caller) -> None:
    connector = exchange_connector(server_name="EXCH01.contoso.local", status="disconnected")
    correlation = str(uuid.uuid4())

    admin.patch(
        f"{EXCHANGE}/{connector.id}",
        json={"status": "connected"},
        headers={"client-request-id": correlation},
    )

    event = AuditEvent.objects.get()
    assert event.correlation_id == correlation
    assert event.activity == "Patch DeviceManagementExchangeConnector"
    assert event.activity_operation_type == "Patch"
    assert event.activity_result == "Success"
    assert event.actor["userPrincipalName"] == "admin@sandbox.example"
    assert event.actor["userId"] == "a0000000-0000-4000-8000-000000000001"
    assert event.actor["auditActorType"] == event.actor["type"] == "ItPro"
    assert event.actor["applicationId"]
    [resource] = event.resources
    assert resource["resourceId"] == connector.id
    assert resource["displayName"] == "EXCH01.contoso.local"
    assert resource["modifiedProperties"] == [
        {"displayName": "status", "oldValue": "disconnected", "newValue": "connected"}
    ]


def test_create_sync_and_delete_are_audited_and_failures_are_not(admin: Caller) -> None:
    created = admin.post(EXCHANGE, json={"serverName": "EXCH02.contoso.local"}).json()
    admin.post(f"{EXCHANGE}/{created['id']}/sync", json={"syncType": "fullSync"})
    admin.patch(f"{EXCHANGE}/{created['id']}", json={"status": "String"})
    admin.delete(f"{EXCHANGE}/{created['id']}")

    operations = list(AuditEvent.objects.values_list("activity_operation_type", flat=True))
    assert operations == ["Create", "Action", "Delete"]
    sync = AuditEvent.objects.get(activity_operation_type="Action")
    assert sync.resources[0]["modifiedProperties"][0]["newValue"] == "fullSync"


def test_a_string_longer_than_its_column_is_400_not_a_database_error(admin: Caller) -> None:
    response = admin.post(EXCHANGE, json={"serverName": "x" * 256})

    assert assert_graph_error(response, 400, "BadRequest")["target"] == "serverName"
    assert ExchangeConnector.objects.count() == 0


def test_an_odata_type_annotation_must_name_the_entity_type(admin: Caller) -> None:
    right = admin.post(EXCHANGE, json={"@odata.type": ODATA_TYPE, "serverName": "A"})
    wrong = admin.post(EXCHANGE, json={"@odata.type": "#microsoft.graph.user", "serverName": "B"})

    assert right.status_code == 201
    assert assert_graph_error(wrong, 400, "BadRequest")["target"] == "@odata.type"

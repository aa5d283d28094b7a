"""The Exchange connector API: every operation per role, by session and by bearer token (OBO)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry, Channel, Outcome, Phase
from sandbox.models import ExchangeConnector
from tests.conftest import ADMIN, LIMITED, OPERATOR, READER
from tests.connectors.support import forget_graph_calls, graph_calls
from tests.sandbox import factories

pytestmark = pytest.mark.django_db
BASE = "/api/v1/exchange-connectors"
NEW = {
    "serverName": "EXCH-API01.contoso.local",
    "exchangeConnectorType": "onPremises",
    "status": "connectionPending",
    "primarySmtpAddress": "api@contoso.com",
}


@pytest.fixture
def connector(settings) -> ExchangeConnector:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 0
    return factories.exchange_connector(
        server_name="EXCH-API.contoso.local",
        status="disconnected",
        last_sync=timezone.now() - timedelta(days=2),
    )


@pytest.fixture(params=["session", "bearer"])
def client_as(request, signed_in_client, bearer_client) -> Callable[[str], Client]:
    """The same calls through both ways in: the browser session and an OBO bearer token."""
    return signed_in_client if request.param == "session" else bearer_client


def is_guid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def send(client: Client, method: str, url: str, body: object | None = None):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json")


def operations(connector: ExchangeConnector) -> dict[str, tuple[str, str, object]]:
    return {
        "list": ("get", f"{BASE}/", None),
        "get": ("get", f"{BASE}/{connector.id}/", None),
        "create": ("post", f"{BASE}/create/", NEW),
        "update": (
            "patch",
            f"{BASE}/{connector.id}/update/",
            {"values": {"exchangeOrganization": "Northwind"}},
        ),
        "sync": ("post", f"{BASE}/{connector.id}/sync/", {"syncType": "deltaSync"}),
        "bulk-sync": (
            "post",
            f"{BASE}/sync/",
            {"connectorIds": [connector.id], "syncType": "fullSync"},
        ),
        "delete": ("delete", f"{BASE}/{connector.id}/delete/", {"reason": "gone"}),
    }


ALLOWED = {
    READER: {"list", "get"},
    OPERATOR: {"list", "get", "sync", "bulk-sync"},
    ADMIN: {"list", "get", "create", "update", "sync", "bulk-sync", "delete"},
}
SUCCESS = {
    "list": 200,
    "get": 200,
    "create": 201,
    "update": 200,
    "sync": 202,
    "bulk-sync": 200,
    "delete": 204,
}


@pytest.mark.parametrize("upn", [READER, OPERATOR, ADMIN])
@pytest.mark.parametrize("operation", list(SUCCESS))
def test_every_operation_per_role_and_way_in(client_as, connector, upn, operation) -> None:
    client = client_as(upn)
    method, url, body = operations(connector)[operation]
    response = send(client, method, url, body)
    if operation in ALLOWED[upn]:
        assert response.status_code == SUCCESS[operation], response.content
    else:
        assert response.status_code == 403
        assert "needs the" in response.json()["message"]
        assert not AuditEntry.objects.exists()


def test_list_takes_the_pages_filters_and_reports_paging(bearer_client, connector) -> None:
    factories.exchange_connector(server_name="EXCH-OK.contoso.local", status="connected")
    client = bearer_client(READER)
    body = client.get(f"{BASE}/", {"status": "disconnected", "page_size": 1}).json()
    assert body["count"] == 1 and body["pages"] == 1 and body["page_size"] == 1
    [item] = body["results"]
    assert item["serverName"] == "EXCH-API.contoso.local"
    assert item["status"] == "disconnected" and item["health"] == "unhealthy"
    assert item["exchangeConnectorType"] == "onPremises"


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"sort": "password"},
        {"page_size": "0"},
        {"page_size": "999"},
        {"page": "x"},
    ],
)
def test_bad_list_parameters_are_400_with_the_field_named(bearer_client, query) -> None:
    forget_graph_calls()
    response = bearer_client(READER).get(f"{BASE}/", query)
    assert response.status_code == 400
    body = response.json()
    assert body["message"] and set(query) <= set(body["extra"]["fields"])
    assert graph_calls() == []


def test_create_writes_an_audit_entry_marked_as_api_with_the_tokens_user(bearer_client) -> None:
    response = send(bearer_client(ADMIN), "post", f"{BASE}/create/", NEW)
    assert response.status_code == 201
    created = response.json()
    assert created["serverName"] == "EXCH-API01.contoso.local" and created["id"]
    [outcome] = AuditEntry.objects.filter(phase=Phase.OUTCOME)
    assert outcome.channel == Channel.API and outcome.actor_upn == ADMIN
    assert outcome.outcome == Outcome.SUCCEEDED and outcome.target_id == created["id"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("status", "String", "valid choice"),
        ("status", "unknownFutureValue", "valid choice"),
        ("primarySmtpAddress", "nope", "valid email"),
        ("lastSyncDateTime", "2026-13-45T99:00", "valid date/time"),
        ("serverName", "x" * 300, "at most 255"),
        ("serverName", None, "required"),
        ("serverName", ["a"], "single value"),
        ("notAField", "x", "Unknown field"),
    ],
)
def test_bad_create_bodies_name_the_field_and_send_nothing(
    bearer_client, field, value, message
) -> None:
    forget_graph_calls()
    response = send(bearer_client(ADMIN), "post", f"{BASE}/create/", {**NEW, field: value})
    assert response.status_code == 400
    assert message in " ".join(response.json()["extra"]["fields"][field])
    assert [call for call in graph_calls() if call.method != "GET"] == []


def test_update_patches_only_what_changed_and_checks_expected_values(
    bearer_client, connector
) -> None:
    client = bearer_client(ADMIN)
    forget_graph_calls()
    response = send(
        client,
        "patch",
        f"{BASE}/{connector.id}/update/",
        {
            "values": {"exchangeOrganization": "Northwind", "serverName": connector.server_name},
            "reason": "merger",
        },
    )
    assert response.status_code == 200 and response.json()["exchangeOrganization"] == "Northwind"
    assert [call.method for call in graph_calls()] == ["GET", "PATCH"]
    [outcome] = AuditEntry.objects.filter(phase=Phase.OUTCOME)
    assert outcome.after == {"exchangeOrganization": "Northwind"} and outcome.reason == "merger"

    conflict = send(
        client,
        "patch",
        f"{BASE}/{connector.id}/update/",
        {
            "values": {"exchangeOrganization": "Mine"},
            "expected": {"exchangeOrganization": "Contoso"},
        },
    )
    assert conflict.status_code == 409
    fields = conflict.json()["extra"]["fields"]
    assert fields["exchangeOrganization"] == {
        "expected": "Contoso",
        "in_graph": "Northwind",
        "yours": "Mine",
    }


def test_a_required_reason_is_enforced(bearer_client, connector, settings) -> None:
    settings.AUDIT_REQUIRE_REASON = True
    forget_graph_calls()
    response = send(bearer_client(ADMIN), "delete", f"{BASE}/{connector.id}/delete/", {})
    assert response.status_code == 400
    assert "reason" in response.json()["extra"]["fields"]
    assert graph_calls() == []


def test_graph_refusal_passes_graph_code_and_request_id(bearer_client, connector) -> None:
    response = send(
        bearer_client(LIMITED), "post", f"{BASE}/{connector.id}/sync/", {"syncType": "deltaSync"}
    )
    assert response.status_code == 403
    extra = response.json()["extra"]
    body = response.json()
    extra = body["extra"]
    # Intune's dialect: the wrapper's ids kept apart for a support ticket, the sentence shown.
    assert extra["graph_code"] == "Forbidden" and extra["graph_request_id"]
    assert extra["required_permission"] == "DeviceManagementServiceConfig.ReadWrite.All"
    assert is_guid(extra["graph_operation_id"]) and is_guid(extra["graph_activity_id"])
    assert body["message"].startswith(
        "Graph refused this: your account lacks DeviceManagementServiceConfig.ReadWrite.All"
    )
    assert f"Operation ID: {extra['graph_operation_id']}." in body["message"]
    assert "{" not in body["message"] and "_version" not in body["message"]
    [outcome] = AuditEntry.objects.filter(phase=Phase.OUTCOME)
    assert outcome.outcome == Outcome.FAILED and outcome.channel == Channel.API


def test_an_intune_404_keeps_its_operation_id(bearer_client, connector) -> None:
    response = send(bearer_client(ADMIN), "get", f"{BASE}/no-such-connector/", None)
    assert response.status_code == 404
    extra = response.json()["extra"]
    assert extra["graph_code"] == "ResourceNotFound" and is_guid(extra["graph_operation_id"])
    assert "Operation ID:" in response.json()["message"]


def test_graph_throttling_is_503_with_retry_after(
    bearer_client, connector, sandbox_faults, settings
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    sandbox_faults.install({"path": "/beta/deviceManagement/*", "fault": "429", "retry_after": 9})
    response = bearer_client(READER).get(f"{BASE}/{connector.id}/")
    assert response.status_code == 503
    assert response["Retry-After"] == "9"
    assert response.json()["extra"]["graph_code"] == "TooManyRequests"


@pytest.mark.parametrize(("fault", "expected"), [("500", 502), ("503", 503), ("drop", 502)])
def test_graph_failures_map_to_gateway_errors(
    bearer_client, connector, sandbox_faults, settings, fault, expected
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    sandbox_faults.install({"path": "/beta/deviceManagement/*", "fault": fault})
    response = bearer_client(READER).get(f"{BASE}/{connector.id}/")
    assert response.status_code == expected
    assert response.json()["message"]


def test_a_write_timing_out_is_504_and_outcome_unknown(
    bearer_client, connector, sandbox_faults, settings
) -> None:
    settings.OUTBOUND_TIMEOUT_SECONDS = 0.2
    sandbox_faults.install(
        {"method": "POST", "path": "/beta/*/sync", "fault": "delay", "seconds": 3}
    )
    response = send(
        bearer_client(OPERATOR), "post", f"{BASE}/{connector.id}/sync/", {"syncType": "deltaSync"}
    )
    assert response.status_code == 504
    [outcome] = AuditEntry.objects.filter(phase=Phase.OUTCOME)
    assert outcome.outcome == Outcome.UNKNOWN


def test_unknown_connector_is_404(bearer_client) -> None:
    response = bearer_client(READER).get(f"{BASE}/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert response.json()["extra"]["graph_code"]


def test_bulk_sync_reports_each_connectors_outcome(bearer_client, connector) -> None:
    ghost = "00000000-0000-0000-0000-00000000dead"
    response = send(
        bearer_client(OPERATOR),
        "post",
        f"{BASE}/sync/",
        {"connectorIds": [connector.id, ghost], "syncType": "deltaSync"},
    )
    results = {item["connectorId"]: item for item in response.json()["results"]}
    assert results[connector.id]["error"] is None
    assert results[ghost]["error"]["status"] == 404


def test_session_writes_need_the_csrf_token(signed_in_client) -> None:
    client = signed_in_client(ADMIN)
    client.handler.enforce_csrf_checks = True
    response = send(client, "post", f"{BASE}/create/", NEW)
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert not ExchangeConnector.objects.exists()


def test_the_obo_graph_token_is_reused_across_calls(bearer_client, connector) -> None:
    from sandbox.models import RefreshToken

    client = bearer_client(READER)
    client.get(f"{BASE}/")
    issued = RefreshToken.objects.count()
    client.get(f"{BASE}/")
    client.get(f"{BASE}/{connector.id}/")
    assert RefreshToken.objects.count() == issued  # no new token exchange per call

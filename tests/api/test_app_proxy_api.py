"""The App Proxy API: connectors and connector groups per role, by session and by bearer token."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client

from audit.models import AuditEntry, Channel, Outcome, Phase
from sandbox.models import AppProxyConnector, ConnectorGroup
from tests.conftest import ADMIN, LIMITED, OPERATOR, READER, consent_to
from tests.connectors.support import forget_graph_calls, writes
from tests.sandbox import factories

pytestmark = pytest.mark.django_db
CONNECTORS = "/api/v1/app-proxy/connectors"
GROUPS = "/api/v1/app-proxy/groups"
DIRECTORY = ["https://graph.microsoft.com/Directory.ReadWrite.All"]


@pytest.fixture(autouse=True)
def consented() -> None:
    for upn in (ADMIN, OPERATOR, READER, LIMITED):
        consent_to(upn, DIRECTORY)


@pytest.fixture
def tenant() -> dict[str, object]:
    default = factories.connector_group(name="Default", is_default=True)
    east = factories.connector_group(name="East", region="eur")
    spare = factories.connector_group(name="Spare")
    sync = factories.connector_group(name="Sync", connector_group_type=factories.FUTURE_GROUP_TYPE)
    connector = factories.app_proxy_connector(
        machine_name="APPPROXY-A.contoso.local", group=default, external_ip="203.0.113.10"
    )
    factories.app_proxy_connector(machine_name="APPPROXY-B.contoso.local", group=east)
    return {"default": default, "east": east, "spare": spare, "sync": sync, "connector": connector}


@pytest.fixture(params=["session", "bearer"])
def client_as(request, signed_in_client, bearer_client) -> Callable[[str], Client]:
    return signed_in_client if request.param == "session" else bearer_client


def send(client: Client, method: str, url: str, body: object | None = None):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json")


def operations(tenant) -> dict[str, tuple[str, str, object, int]]:
    connector, east, spare = tenant["connector"], tenant["east"], tenant["spare"]
    return {
        "connector-list": ("get", f"{CONNECTORS}/", None, 200),
        "connector-get": ("get", f"{CONNECTORS}/{connector.id}/", None, 200),
        "connector-update": (
            "patch",
            f"{CONNECTORS}/{connector.id}/update/",
            {"values": {"machineName": "APPPROXY-A2.contoso.local"}},
            200,
        ),
        "connector-move": ("post", f"{CONNECTORS}/{connector.id}/move/", {"groupId": east.id}, 200),
        "group-list": ("get", f"{GROUPS}/", None, 200),
        "group-get": ("get", f"{GROUPS}/{east.id}/", None, 200),
        "group-create": ("post", f"{GROUPS}/create/", {"name": "Sydney", "region": "aus"}, 201),
        "group-update": (
            "patch",
            f"{GROUPS}/{east.id}/update/",
            {"values": {"name": "East EU"}},
            200,
        ),
        "group-delete": ("delete", f"{GROUPS}/{spare.id}/delete/", {"reason": "unused"}, 204),
    }


READS = {"connector-list", "connector-get", "group-list", "group-get"}


@pytest.mark.parametrize("upn", [READER, OPERATOR, ADMIN])
@pytest.mark.parametrize(
    "operation",
    [
        "connector-list",
        "connector-get",
        "connector-update",
        "connector-move",
        "group-list",
        "group-get",
        "group-create",
        "group-update",
        "group-delete",
    ],
)
def test_every_operation_per_role_and_way_in(client_as, tenant, upn, operation) -> None:
    method, url, body, success = operations(tenant)[operation]
    response = send(client_as(upn), method, url, body)
    if operation in READS or upn == ADMIN:
        assert response.status_code == success, response.content
    else:
        assert response.status_code == 403
        assert not AuditEntry.objects.exists()


def test_list_shows_each_connector_with_its_group(bearer_client, tenant) -> None:
    body = bearer_client(READER).get(f"{CONNECTORS}/", {"sort": "machineName"}).json()
    assert [(item["machineName"], item["group"]["name"]) for item in body["results"]] == [
        ("APPPROXY-A.contoso.local", "Default"),
        ("APPPROXY-B.contoso.local", "East"),
    ]


def test_group_list_reports_health(bearer_client, tenant) -> None:
    groups = {g["name"]: g for g in bearer_client(READER).get(f"{GROUPS}/").json()["results"]}
    assert groups["East"]["connectors"] == 1 and groups["East"]["belowMinimum"] is True
    assert groups["Default"]["isDefault"] is True
    assert groups["Sync"]["connectorGroupType"] == factories.FUTURE_GROUP_TYPE


def test_move_is_audited_as_api_and_changes_the_group(bearer_client, tenant) -> None:
    connector, east = tenant["connector"], tenant["east"]
    response = send(
        bearer_client(ADMIN),
        "post",
        f"{CONNECTORS}/{connector.id}/move/",
        {"groupId": east.id, "reason": "rebalance"},
    )
    assert response.status_code == 200 and response.json()["group"]["name"] == "East"
    assert AppProxyConnector.objects.get(pk=connector.pk).group_id == east.id
    [outcome] = AuditEntry.objects.filter(phase=Phase.OUTCOME)
    assert outcome.channel == Channel.API and outcome.outcome == Outcome.SUCCEEDED
    assert outcome.reason == "rebalance"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("post", "connector/move/", {"groupId": "sync"}, 409, "Application Proxy groups"),
        ("post", "connector/move/", {"groupId": "00000000-0000-0000-0000-000000000000"}, 404, ""),
        (
            "patch",
            "connector/update/",
            {"values": {"externalIp": "300.1.1.1"}},
            400,
            "IPv4 or IPv6",
        ),
        (
            "patch",
            "connector/update/",
            {"values": {"status": "unknownFutureValue"}},
            400,
            "valid choice",
        ),
        ("patch", "east/update/", {"values": {"region": "asia"}}, 409, "only while the group"),
        ("delete", "default/delete/", {}, 409, "default group"),
        ("delete", "east/delete/", {}, 409, "Only an empty group"),
        ("post", "create/", {"name": ""}, 400, "may not be blank"),
        ("post", "create/", {"name": "x" * 129}, 400, "no more than 128"),
        ("post", "create/", {"name": "Paris", "region": "mars"}, 400, "valid choice"),
    ],
)
def test_bad_input_and_refused_changes_send_no_write_to_graph(
    bearer_client, tenant, method, path, body, status, message
) -> None:
    subject, _, action = path.partition("/")
    if subject == "connector":
        url = f"{CONNECTORS}/{tenant['connector'].id}/{action}"
    elif subject == "create":
        url = f"{GROUPS}/create/"
    else:
        url = f"{GROUPS}/{tenant[subject].id}/{action}"
    if body.get("groupId") == "sync":
        body = {"groupId": tenant["sync"].id}
    forget_graph_calls()
    response = send(bearer_client(ADMIN), method, url, body)
    assert response.status_code == status, response.content
    assert message in json.dumps(response.json())
    assert writes() == []
    assert ConnectorGroup.objects.count() == 4


def test_graph_refusal_names_the_permission(bearer_client, tenant) -> None:
    response = bearer_client(LIMITED).get(f"{CONNECTORS}/")
    assert response.status_code == 403
    body = response.json()
    assert body["extra"]["required_permission"] == "Directory.ReadWrite.All"
    # The directory's dialect: a plain sentence, no Intune wrapper, so no Operation ID.
    assert body["extra"]["graph_code"] == "Authorization_RequestDenied"
    assert (body["extra"]["graph_operation_id"], body["extra"]["graph_activity_id"]) == ("", "")
    assert "your account lacks Directory.ReadWrite.All" in body["message"]
    assert "Operation ID" not in body["message"]

"""The sandbox's Entra Application Proxy endpoints: connectors, groups, moves and their rules."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from sandbox.models import AppProxyConnector, AuditEvent, ConnectorGroup
from tests.sandbox.factories import FUTURE_GROUP_TYPE, app_proxy_connector, connector_group
from tests.sandbox.graph_support import APP_PROXY, Caller, assert_graph_error, caller

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(graph_token: Callable[..., str]) -> Caller:
    return caller(graph_token)


CONNECTORS = f"{APP_PROXY}/connectors"
GROUPS = f"{APP_PROXY}/connectorGroups"
REAL_GRAPH = "https://graph.microsoft.com/beta"


# --- Connectors ------------------------------------------------------------------------------


def test_list_connectors(admin: Caller) -> None:
    connector = app_proxy_connector(machine_name="AP01.contoso.local")

    response = admin.get(CONNECTORS)

    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"].endswith(
        "$metadata#onPremisesPublishingProfiles('applicationProxy')/connectors"
    )
    [item] = body["value"]
    assert item == {
        "@odata.type": "#microsoft.graph.connector",
        "id": connector.id,
        "machineName": "AP01.contoso.local",
        "externalIp": "203.0.113.10",
        "status": "active",
        "version": "1.5.3437.0",
    }


def test_get_connector_and_404_shaped_like_the_directory(admin: Caller) -> None:
    connector = app_proxy_connector()

    assert admin.get(f"{CONNECTORS}/{connector.id}").json()["id"] == connector.id
    error = assert_graph_error(admin.get(f"{CONNECTORS}/missing"), 404, "Request_ResourceNotFound")
    assert "'missing'" in error["message"]


def test_connectors_support_count_filter_and_select(admin: Caller) -> None:
    app_proxy_connector(machine_name="AP01.contoso.local", status="inactive")
    app_proxy_connector(machine_name="AP02.contoso.local")

    counted = admin.get(f"{CONNECTORS}/$count", params={"$filter": "status eq 'inactive'"})
    selected = admin.get(CONNECTORS, params={"$select": "machineName", "$orderby": "machineName"})

    assert counted.text == "1"
    assert [item["machineName"] for item in selected.json()["value"]] == [
        "AP01.contoso.local",
        "AP02.contoso.local",
    ]
    assert "status" not in selected.json()["value"][0]


def test_patch_connector_returns_the_entity_and_is_audited(admin: Caller) -> None:
    connector = app_proxy_connector(machine_name="OLD.contoso.local")
    correlation = str(uuid.uuid4())

    response = admin.patch(
        f"{CONNECTORS}/{connector.id}",
        json={
            "machineName": "NEW.contoso.local",
            "externalIp": "198.51.100.7",
            "status": "inactive",
        },
        headers={"client-request-id": correlation},
    )

    assert response.status_code == 200, response.text
    assert response.json()["machineName"] == "NEW.contoso.local"
    connector.refresh_from_db()
    assert (connector.external_ip, connector.status) == ("198.51.100.7", "inactive")
    event = AuditEvent.objects.get()
    assert event.correlation_id == correlation
    assert event.activity == "Patch Connector"
    changed = {p["displayName"] for p in event.resources[0]["modifiedProperties"]}
    assert changed == {"machineName", "externalIp", "status"}


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"status": "sleeping"}, "status"),
        ({"externalIp": "not-an-ip"}, "externalIp"),
        ({"version": "9.9"}, "version"),
        ({"id": "other"}, "id"),
        ({"machineName": ""}, "machineName"),
        ({"machineName": ["a"]}, "machineName"),
        ({"hostName": "x"}, "hostName"),
    ],
)
def test_patch_connector_refuses_bad_properties(admin: Caller, body: dict, target: str) -> None:
    connector = app_proxy_connector(machine_name="KEEP.contoso.local")

    response = admin.patch(f"{CONNECTORS}/{connector.id}", json=body)

    error = assert_graph_error(response, 400, "Request_BadRequest")
    assert error["target"] == target
    assert target in error["message"]
    connector.refresh_from_db()
    assert connector.machine_name == "KEEP.contoso.local"


def test_member_of_lists_the_connectors_one_group(admin: Caller) -> None:
    group = connector_group(name="Europe", region="eur")
    connector = app_proxy_connector(group=group)

    body = admin.get(f"{CONNECTORS}/{connector.id}/memberOf").json()

    [item] = body["value"]
    assert item["@odata.type"] == "#microsoft.graph.connectorGroup"
    assert (item["id"], item["name"], item["region"]) == (group.id, "Europe", "eur")


def test_move_connector_with_member_of_ref(admin: Caller) -> None:
    source, target = connector_group(), connector_group()
    connector = app_proxy_connector(group=source)

    response = admin.post(
        f"{CONNECTORS}/{connector.id}/memberOf/$ref",
        json={"@odata.id": f"{REAL_GRAPH}/{GROUPS}/{target.id}"},
    )

    assert response.status_code == 204, response.text
    connector.refresh_from_db()
    assert connector.group_id == target.id
    event = AuditEvent.objects.get()
    assert event.activity_operation_type == "Action"
    assert event.resources[0]["modifiedProperties"] == [
        {"displayName": "memberOf", "oldValue": source.id, "newValue": target.id}
    ]


def test_move_connector_from_the_group_side_with_the_sandbox_url(admin: Caller) -> None:
    source, target = connector_group(), connector_group()
    connector = app_proxy_connector(group=source)

    response = admin.post(
        f"{GROUPS}/{target.id}/members/$ref",
        json={"@odata.id": admin.url(f"{CONNECTORS}/{connector.id}")},
    )

    assert response.status_code == 204, response.text
    members = admin.get(f"{GROUPS}/{target.id}/members").json()["value"]
    assert [member["id"] for member in members] == [connector.id]
    assert admin.get(f"{GROUPS}/{source.id}/members").json()["value"] == []


def test_moving_to_a_group_of_a_later_type_is_refused(admin: Caller) -> None:
    source = connector_group()
    later = connector_group(connector_group_type=FUTURE_GROUP_TYPE)
    connector = app_proxy_connector(group=source)

    response = admin.post(
        f"{CONNECTORS}/{connector.id}/memberOf/$ref",
        json={"@odata.id": f"{REAL_GRAPH}/{GROUPS}/{later.id}"},
    )

    error = assert_graph_error(response, 400, "Request_BadRequest")
    assert FUTURE_GROUP_TYPE in error["message"]
    connector.refresh_from_db()
    assert connector.group_id == source.id


@pytest.mark.parametrize("group_type", ["syncFabric", "unknownFutureValue"])
def test_only_the_documented_group_type_is_accepted(admin: Caller, group_type: str) -> None:
    """Graph's metadata knows one connectorGroupType: applicationProxy."""
    response = admin.post(GROUPS, json={"name": "Agents", "connectorGroupType": group_type})

    error = assert_graph_error(response, 400, "Request_BadRequest")
    assert error["target"] == "connectorGroupType"
    assert "Valid values: applicationProxy." in error["message"]
    assert not ConnectorGroup.objects.filter(name="Agents").exists()
    created = admin.post(GROUPS, json={"name": "Agents", "connectorGroupType": "applicationProxy"})
    assert created.status_code == 201 and created.json()["connectorGroupType"] == "applicationProxy"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"@odata.id": 7},
        {"@odata.id": f"{REAL_GRAPH}/deviceManagement/exchangeConnectors/x"},
    ],
)
def test_move_needs_a_group_reference(admin: Caller, body: dict) -> None:
    connector = app_proxy_connector()

    response = admin.post(f"{CONNECTORS}/{connector.id}/memberOf/$ref", json=body)

    assert assert_graph_error(response, 400, "Request_BadRequest")["target"] == "@odata.id"


def test_moving_to_an_unknown_group_is_404(admin: Caller) -> None:
    connector = app_proxy_connector()

    response = admin.post(
        f"{CONNECTORS}/{connector.id}/memberOf/$ref",
        json={"@odata.id": f"{REAL_GRAPH}/{GROUPS}/no-such-group"},
    )

    assert_graph_error(response, 404, "Request_ResourceNotFound")


# --- Connector groups ------------------------------------------------------------------------


def test_list_and_get_groups(admin: Caller) -> None:
    group = connector_group(name="Asia", region="asia")
    connector_group(name="Nowhere")

    listed = admin.get(GROUPS, params={"$filter": "region eq null"}).json()
    single = admin.get(f"{GROUPS}/{group.id}").json()

    assert [item["name"] for item in listed["value"]] == ["Nowhere"]
    assert listed["value"][0]["region"] is None
    assert single["@odata.context"].endswith("connectorGroups/$entity")
    assert (single["name"], single["region"], single["isDefault"]) == ("Asia", "asia", False)
    assert single["connectorGroupType"] == "applicationProxy"


def test_create_group_returns_201(admin: Caller) -> None:
    response = admin.post(GROUPS, json={"name": "Frankfurt", "region": "eur"})

    assert response.status_code == 201, response.text
    body = response.json()
    group = ConnectorGroup.objects.get(pk=body["id"])
    assert (group.name, group.region, group.is_default) == ("Frankfurt", "eur", False)
    assert AuditEvent.objects.get().activity == "Create ConnectorGroup"


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"region": "eur"}, "name"),
        ({"name": "X", "region": "mars"}, "region"),
        ({"name": "X", "isDefault": True}, "isDefault"),
        ({"name": "X", "connectorGroupType": "cloud"}, "connectorGroupType"),
    ],
)
def test_create_group_refuses_bad_bodies(admin: Caller, body: dict, target: str) -> None:
    error = assert_graph_error(admin.post(GROUPS, json=body), 400, "Request_BadRequest")
    assert error["target"] == target
    assert not ConnectorGroup.objects.exists()


def test_update_group_name_and_region_while_empty(admin: Caller) -> None:
    group = connector_group(name="Old", region="nam")

    response = admin.patch(
        f"{GROUPS}/{group.id}", json={"name": "New", "region": "unknownFutureValue"}
    )

    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["region"]) == ("New", "unknownFutureValue")


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"connectorGroupType": "applicationProxy"}, "connectorGroupType"),
        ({"isDefault": True}, "isDefault"),
    ],
)
def test_update_group_refuses_read_only_properties(admin: Caller, body: dict, target: str) -> None:
    group = connector_group()

    error = assert_graph_error(
        admin.patch(f"{GROUPS}/{group.id}", json=body), 400, "Request_BadRequest"
    )

    assert error["target"] == target
    assert "read-only" in error["message"]


def test_region_cannot_change_while_the_group_has_connectors(admin: Caller) -> None:
    group = connector_group(region="nam")
    app_proxy_connector(group=group)

    response = admin.patch(f"{GROUPS}/{group.id}", json={"region": "eur"})

    error = assert_graph_error(response, 400, "Request_BadRequest")
    assert error["target"] == "region"
    assert "1 connector(s)" in error["message"]
    group.refresh_from_db()
    assert group.region == "nam"


def test_region_cannot_change_while_the_group_has_applications(admin: Caller) -> None:
    group = connector_group(region="nam", applications=2)

    response = admin.patch(f"{GROUPS}/{group.id}", json={"region": "eur"})

    assert "2 application(s)" in assert_graph_error(response, 400, "Request_BadRequest")["message"]
    # Renaming a busy group is fine.
    assert admin.patch(f"{GROUPS}/{group.id}", json={"name": "Renamed"}).status_code == 200


def test_delete_an_empty_group(admin: Caller) -> None:
    group = connector_group()

    response = admin.delete(f"{GROUPS}/{group.id}")

    assert response.status_code == 204
    assert not ConnectorGroup.objects.filter(pk=group.pk).exists()
    assert AuditEvent.objects.get().activity == "Delete ConnectorGroup"


@pytest.mark.parametrize(("connectors", "applications"), [(1, 0), (0, 3)])
def test_a_group_in_use_cannot_be_deleted(
    admin: Caller, connectors: int, applications: int
) -> None:
    group = connector_group(applications=applications)
    for _ in range(connectors):
        app_proxy_connector(group=group)

    response = admin.delete(f"{GROUPS}/{group.id}")

    error = assert_graph_error(response, 400, "Request_BadRequest")
    assert "cannot be deleted" in error["message"]
    assert ConnectorGroup.objects.filter(pk=group.pk).exists()
    assert not AuditEvent.objects.exists()


def test_the_default_group_cannot_be_deleted(admin: Caller) -> None:
    group = connector_group(is_default=True)

    error = assert_graph_error(admin.delete(f"{GROUPS}/{group.id}"), 400, "Request_BadRequest")

    assert "default" in error["message"]


def test_unknown_group_is_404(admin: Caller) -> None:
    assert_graph_error(admin.delete(f"{GROUPS}/missing"), 404, "Request_ResourceNotFound")
    assert_graph_error(admin.get(f"{GROUPS}/missing/members"), 404, "Request_ResourceNotFound")


def test_connectors_keep_exactly_one_group(admin: Caller) -> None:
    first, second = connector_group(), connector_group()
    connector = app_proxy_connector(group=first)

    for group in (second, first, first):
        admin.post(
            f"{GROUPS}/{group.id}/members/$ref",
            json={"@odata.id": admin.url(f"{CONNECTORS}/{connector.id}")},
        )

    groups = admin.get(f"{CONNECTORS}/{connector.id}/memberOf").json()["value"]
    assert [group["id"] for group in groups] == [first.id]
    assert AppProxyConnector.objects.get().group_id == first.id

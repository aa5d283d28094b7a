"""Graph as the real service answers where the sandbox used to differ (issue 17).

Errors in the dialect of the service behind each path (docs/graph-errors.md), a PATCH carrying
its own id, bodies not labelled JSON, 204s without a Content-Type, memberOf's @odata.context, and
answers that carry Graph's headers rather than a web page's.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable

import pytest
import requests
from django.conf import settings
from django.test import Client

from sandbox.graph.dialects import INTUNE_SERVICE_URL
from sandbox.models import AppProxyConnector, ConnectorGroup, ExchangeConnector
from tests.sandbox.factories import app_proxy_connector, connector_group, exchange_connector
from tests.sandbox.graph_support import (
    APP_PROXY,
    AUDIT,
    EXCHANGE,
    Caller,
    assert_directory_error,
    assert_graph_error,
    assert_intune_error,
    caller,
)

pytestmark = pytest.mark.django_db

CONNECTORS = f"{APP_PROXY}/connectors"
GROUPS = f"{APP_PROXY}/connectorGroups"


@pytest.fixture
def admin(graph_token: Callable[..., str]) -> Caller:
    return caller(graph_token)


# --- Dialects --------------------------------------------------------------------------------


def test_intune_wraps_its_404_and_names_the_request_in_the_url(admin: Caller) -> None:
    wrapper = assert_intune_error(admin.get(f"{EXCHANGE}/gone"), 404, "ResourceNotFound")

    assert wrapper["sentence"] == (
        "No deviceManagementExchangeConnector with id 'gone' exists in this tenant."
    )
    assert wrapper["url"].startswith(f"{INTUNE_SERVICE_URL}/{EXCHANGE}/gone?api-version=")


def test_intune_wraps_its_400_and_each_answer_has_its_own_ids(admin: Caller) -> None:
    connector = exchange_connector()

    first = assert_intune_error(
        admin.patch(f"{EXCHANGE}/{connector.id}", json={"status": "String"}), 400, "BadRequest"
    )
    second = assert_intune_error(
        admin.patch(f"{EXCHANGE}/{connector.id}", json={"status": "String"}), 400, "BadRequest"
    )

    assert first["sentence"].startswith("The value 'String' is not valid for property 'status'.")
    assert first["operation"] != second["operation"]
    assert first["activity"] != second["activity"]


def test_the_audit_events_are_intune_too(admin: Caller) -> None:
    assert_intune_error(admin.get(f"{AUDIT}/missing"), 404, "ResourceNotFound")


def test_the_directory_answers_with_plain_sentences(admin: Caller) -> None:
    group = connector_group(is_default=True)

    missing = assert_directory_error(
        admin.get(f"{CONNECTORS}/missing"), 404, "Request_ResourceNotFound"
    )
    refused = assert_directory_error(
        admin.delete(f"{GROUPS}/{group.id}"), 400, "Request_BadRequest"
    )

    assert missing["message"].startswith("Resource 'missing' does not exist")
    assert "is the default group" in refused["message"]


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        (EXCHANGE, {"Authorization": "Bearer nope"}, 401, "InvalidAuthenticationToken"),
        (f"{EXCHANGE}/{{id}}/nonsense/deeper", {}, 400, "BadRequest"),
    ],
)
def test_graphs_front_door_answers_plainly_even_for_intune_paths(
    admin: Caller, path: str, headers: dict[str, str], status: int, code: str
) -> None:
    connector = exchange_connector()

    response = admin.get(path.format(id=connector.id), headers=headers)

    error = assert_directory_error(response, status, code)
    assert "Operation ID" not in error["message"]


# --- Item 2: a PATCH carrying the object's own id --------------------------------------------


@pytest.mark.parametrize("kind", ["exchange", "connector", "group"])
def test_a_patch_may_repeat_the_objects_own_id(admin: Caller, kind: str) -> None:
    """The SDKs' get-modify-patch sends the model's `id` back."""
    if kind == "exchange":
        obj, path, change = exchange_connector(), EXCHANGE, {"exchangeAlias": "svc-new"}
    elif kind == "connector":
        obj, path, change = app_proxy_connector(), CONNECTORS, {"machineName": "NEW.contoso.local"}
    else:
        obj, path, change = connector_group(), GROUPS, {"name": "Renamed"}

    response = admin.patch(f"{path}/{obj.id}", json={"id": obj.id, **change})

    assert response.status_code == 200, response.text
    assert response.json()["id"] == obj.id
    assert response.json()[next(iter(change))] == next(iter(change.values()))


@pytest.mark.parametrize("kind", ["exchange", "connector", "group"])
def test_a_patch_with_another_id_is_400_and_changes_nothing(admin: Caller, kind: str) -> None:
    if kind == "exchange":
        obj, path, model = exchange_connector(exchange_alias="keep"), EXCHANGE, ExchangeConnector
        change, field, code = {"exchangeAlias": "lost"}, "exchange_alias", "BadRequest"
    elif kind == "connector":
        obj, path, model = app_proxy_connector(machine_name="KEEP"), CONNECTORS, AppProxyConnector
        change, field, code = {"machineName": "LOST"}, "machine_name", "Request_BadRequest"
    else:
        obj, path, model = connector_group(name="Keep"), GROUPS, ConnectorGroup
        change, field, code = {"name": "Lost"}, "name", "Request_BadRequest"

    response = admin.patch(f"{path}/{obj.id}", json={"id": "another-id", **change})

    error = assert_graph_error(response, 400, code)
    assert error["target"] == "id"
    assert "another-id" in error["message"] and obj.id in error["message"]
    assert getattr(model.objects.get(pk=obj.pk), field) == getattr(obj, field)


# --- Item 3: media types, 204s, memberOf's context --------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_not_labelled_json_is_415(admin: Caller, content_type: str | None) -> None:
    connector = exchange_connector(exchange_alias="keep")
    headers = {"Content-Type": content_type} if content_type else {}

    response = admin.patch(
        f"{EXCHANGE}/{connector.id}", data=b'{"exchangeAlias": "lost"}', headers=headers
    )

    error = assert_directory_error(response, 415, "UnsupportedMediaType")
    assert "application/json" in error["message"]
    assert ExchangeConnector.objects.get().exchange_alias == "keep"


def test_json_with_parameters_is_accepted(admin: Caller) -> None:
    connector = exchange_connector()
    response = admin.patch(
        f"{EXCHANGE}/{connector.id}",
        data=b'{"exchangeAlias": "new"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


def _batch_of_one(admin: Caller, method: str, url: str, content_type: str, body: dict) -> dict:
    inner = {"id": "1", "method": method, "url": url, "headers": {"Content-Type": content_type}}
    response = admin.post("$batch", json={"requests": [{**inner, "body": body}]})
    [answer] = response.json()["responses"]
    return answer


def test_inside_a_batch_a_body_not_labelled_json_is_415_too(admin: Caller) -> None:
    connector = exchange_connector(exchange_alias="keep")

    answer = _batch_of_one(
        admin, "PATCH", f"/{EXCHANGE}/{connector.id}", "text/plain", {"exchangeAlias": "lost"}
    )

    assert answer["status"] == 415 and answer["body"]["error"]["code"] == "UnsupportedMediaType"
    assert ExchangeConnector.objects.get().exchange_alias == "keep"


def _no_content_type(response: requests.Response) -> None:
    assert response.status_code == 204, response.text
    assert "Content-Type" not in response.headers
    assert response.content == b""
    assert response.headers["request-id"]  # still a Graph answer


def test_204_answers_carry_no_content_type(admin: Caller) -> None:
    connector = exchange_connector()
    source, target = connector_group(), connector_group()
    member = app_proxy_connector(group=source)
    group_url = f"https://graph.microsoft.com/beta/{GROUPS}/{target.id}"

    _no_content_type(admin.post(f"{EXCHANGE}/{connector.id}/sync", json={"syncType": "deltaSync"}))
    _no_content_type(
        admin.post(f"{CONNECTORS}/{member.id}/memberOf/$ref", json={"@odata.id": group_url})
    )
    _no_content_type(admin.delete(f"{EXCHANGE}/{connector.id}"))


def test_204_answers_inside_a_batch_carry_no_content_type(admin: Caller) -> None:
    connector = exchange_connector()

    answer = _batch_of_one(
        admin,
        "POST",
        f"/{EXCHANGE}/{connector.id}/sync",
        "application/json",
        {"syncType": "fullSync"},
    )

    assert answer["status"] == 204 and "body" not in answer
    assert answer["headers"]["request-id"]
    assert "content-type" not in {name.lower() for name in answer["headers"]}


def test_member_of_names_the_navigation_path_in_its_context(admin: Caller) -> None:
    group = connector_group()
    connector = app_proxy_connector(group=group)

    member_of = admin.get(f"{CONNECTORS}/{connector.id}/memberOf").json()
    members = admin.get(f"{GROUPS}/{group.id}/members").json()

    assert member_of["@odata.context"] == (
        f"{settings.GRAPH_BASE_URL}/$metadata#onPremisesPublishingProfiles('applicationProxy')"
        f"/connectors('{connector.id}')/memberOf"
    )
    assert [item["id"] for item in member_of["value"]] == [group.id]
    assert members["@odata.context"].endswith(
        f"#onPremisesPublishingProfiles('applicationProxy')/connectorGroups('{group.id}')/members"
    )


# --- Graph's headers, not a web page's (issue 11, item 6) ------------------------------------


@pytest.mark.parametrize("path", [EXCHANGE, f"{EXCHANGE}/missing"])
def test_graph_answers_carry_no_page_headers_and_are_gzipped(admin: Caller, path: str) -> None:
    exchange_connector()

    zipped = admin.get(path, headers={"Accept-Encoding": "gzip"})
    plain = admin.get(path, headers={"Accept-Encoding": "identity"})

    for response in (zipped, plain):
        assert "Content-Security-Policy" not in response.headers
        assert "X-Frame-Options" not in response.headers
        assert "cookie" not in response.headers.get("Vary", "").lower()
        assert response.headers["request-id"]
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert zipped.json().keys() == plain.json().keys()  # the same answer, decoded


def test_the_body_on_the_wire_is_really_gzip(client: Client, graph_token) -> None:
    """Under the dashboard's /sandbox/ prefix (Django's test client: no decoding)."""
    exchange_connector()
    response = client.get(
        f"/sandbox/beta/{EXCHANGE}",
        headers={"Authorization": f"Bearer {graph_token()}", "Accept-Encoding": "gzip"},
    )
    assert response["Content-Encoding"] == "gzip"
    assert len(json.loads(gzip.decompress(response.content))["value"]) == 1
    assert not response.has_header("Content-Security-Policy")
    assert not response.has_header("X-Frame-Options")


def test_the_dashboards_pages_keep_their_headers(client: Client) -> None:
    page = client.get("/auth/sign-in/")
    assert page.has_header("X-Frame-Options")
    sign_in_page = client.get(page["Location"])
    assert sign_in_page.has_header("Content-Security-Policy")

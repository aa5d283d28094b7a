"""The sandbox's JSON `$batch`: limits, per-request answers, dependsOn, faults and logging."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sandbox.models import AuditEvent, ExchangeConnector, RequestLog
from tests.conftest import LIMITED
from tests.sandbox.factories import exchange_connector
from tests.sandbox.graph_support import EXCHANGE, Caller, assert_graph_error, caller

pytestmark = pytest.mark.django_db

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def admin(graph_token: Callable[..., str]) -> Caller:
    return caller(graph_token)


def _batch(admin: Caller, requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    response = admin.post("$batch", json={"requests": requests})
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()["responses"]}


def _sync(request_id: str, connector_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": request_id,
        "method": "POST",
        "url": f"/{EXCHANGE}/{connector_id}/sync",
        "headers": JSON,
        "body": {"syncType": "deltaSync"},
        **extra,
    }


def test_a_batch_runs_each_request_and_answers_by_id(admin: Caller) -> None:
    connector = exchange_connector(server_name="EXCH01.contoso.local")

    answers = _batch(
        admin,
        [
            _sync("1", connector.id),
            {"id": "2", "method": "GET", "url": f"{EXCHANGE}/{connector.id}?$select=serverName"},
            {"id": "3", "method": "GET", "url": f"/{EXCHANGE}/$count"},
            {"id": "4", "method": "GET", "url": f"/{EXCHANGE}/missing"},
        ],
    )

    assert answers["1"]["status"] == 204
    assert "body" not in answers["1"]
    assert answers["2"]["status"] == 200
    assert answers["2"]["body"]["serverName"] == "EXCH01.contoso.local"
    assert answers["2"]["headers"]["request-id"]
    assert answers["3"]["body"] == "1"
    assert answers["4"]["status"] == 404
    assert answers["4"]["body"]["error"]["code"] == "ResourceNotFound"
    assert ExchangeConnector.objects.get().sync_type == "deltaSync"


def test_each_inner_request_is_logged_under_the_batch(admin: Caller) -> None:
    connector = exchange_connector()

    response = admin.post(
        "$batch", json={"requests": [_sync("a", connector.id), _sync("b", connector.id)]}
    )

    outer = RequestLog.objects.get(path="/beta/$batch")
    inner = RequestLog.objects.filter(batch_request_id=outer.request_id)
    assert outer.request_id == response.headers["request-id"]
    assert [row.path for row in inner] == [f"/beta/{EXCHANGE}/{connector.id}/sync"] * 2
    assert [row.status for row in inner] == [204, 204]


def test_inner_client_request_ids_become_the_audit_correlation_ids(admin: Caller) -> None:
    connector = exchange_connector()
    correlation = "5e5e5e5e-0000-4000-8000-000000000001"

    _batch(
        admin,
        [_sync("1", connector.id, headers={**JSON, "client-request-id": correlation})],
    )

    assert AuditEvent.objects.get().correlation_id == correlation


def test_more_than_20_requests_is_400(admin: Caller) -> None:
    connector = exchange_connector()
    requests = [_sync(str(n), connector.id) for n in range(21)]

    response = admin.post("$batch", json={"requests": requests})

    assert "20" in assert_graph_error(response, 400, "BadRequest")["message"]
    assert not RequestLog.objects.filter(batch_request_id__gt="").exists()


def test_exactly_20_requests_are_fine(admin: Caller) -> None:
    connector = exchange_connector()
    answers = _batch(admin, [_sync(str(n), connector.id) for n in range(20)])
    assert {answer["status"] for answer in answers.values()} == {204}


def test_duplicate_ids_are_400(admin: Caller) -> None:
    connector = exchange_connector()

    response = admin.post(
        "$batch", json={"requests": [_sync("1", connector.id), _sync("1", connector.id)]}
    )

    assert "'1'" in assert_graph_error(response, 400, "BadRequest")["message"]
    assert ExchangeConnector.objects.get().sync_type == ""


def test_a_body_without_content_type_fails_only_that_request(admin: Caller) -> None:
    connector = exchange_connector()
    bare = _sync("bare", connector.id)
    del bare["headers"]

    answers = _batch(admin, [bare, _sync("typed", connector.id)])

    assert answers["bare"]["status"] == 400
    assert "Content-Type" in answers["bare"]["body"]["error"]["message"]
    assert answers["typed"]["status"] == 204


def test_a_request_whose_dependency_failed_is_424(admin: Caller) -> None:
    connector = exchange_connector()
    failing = {
        "id": "1",
        "method": "PATCH",
        "url": f"/{EXCHANGE}/{connector.id}",
        "headers": JSON,
        "body": {"status": "String"},
    }

    answers = _batch(
        admin,
        [
            _sync("3", connector.id, dependsOn=["2"]),
            _sync("2", connector.id, dependsOn=["1"]),
            failing,
        ],
    )

    assert answers["1"]["status"] == 400
    assert answers["2"]["status"] == 424
    assert answers["3"]["status"] == 424
    assert answers["2"]["body"]["error"]["code"] == "FailedDependency"
    assert not AuditEvent.objects.exists()


def test_dependencies_run_first(admin: Caller) -> None:
    connector = exchange_connector(server_name="A")
    rename = {
        "id": "rename",
        "method": "PATCH",
        "url": f"/{EXCHANGE}/{connector.id}",
        "headers": JSON,
        "body": {"serverName": "B"},
    }
    read = {"id": "read", "method": "GET", "url": f"/{EXCHANGE}/{connector.id}"}

    answers = _batch(admin, [{**read, "dependsOn": ["rename"]}, rename])

    assert answers["read"]["body"]["serverName"] == "B"


@pytest.mark.parametrize(
    "requests",
    [
        [{"id": "1", "method": "GET", "url": f"/{EXCHANGE}", "dependsOn": ["9"]}],
        [
            {"id": "1", "method": "GET", "url": f"/{EXCHANGE}", "dependsOn": ["2"]},
            {"id": "2", "method": "GET", "url": f"/{EXCHANGE}", "dependsOn": ["1"]},
        ],
        [{"id": "1", "method": "GET"}],
        [],
    ],
)
def test_malformed_batches_are_400(admin: Caller, requests: list[dict[str, Any]]) -> None:
    assert_graph_error(admin.post("$batch", json={"requests": requests}), 400, "BadRequest")


def test_an_inner_request_can_be_throttled_with_its_own_retry_after(
    admin: Caller, sandbox_faults: Any
) -> None:
    first, second = exchange_connector(), exchange_connector()
    sandbox_faults.install(
        {"path": f"/beta/{EXCHANGE}/{second.id}/sync", "fault": "429", "retry_after": 7}
    )

    answers = _batch(admin, [_sync("1", first.id), _sync("2", second.id)])

    assert answers["1"]["status"] == 204
    assert answers["2"]["status"] == 429
    assert answers["2"]["headers"]["Retry-After"] == "7"
    assert answers["2"]["body"]["error"]["code"] == "TooManyRequests"
    statuses = list(
        RequestLog.objects.filter(batch_request_id__gt="").values_list("status", flat=True)
    )
    assert statuses == [204, 429]


def test_inner_requests_are_authorized_with_the_outer_token(
    graph_token: Callable[..., str],
) -> None:
    limited = caller(graph_token, LIMITED)
    connector = exchange_connector()

    answers = _batch(
        limited,
        [_sync("write", connector.id), {"id": "read", "method": "GET", "url": f"/{EXCHANGE}"}],
    )

    assert answers["write"]["status"] == 403
    assert answers["read"]["status"] == 200


def test_a_batch_without_a_token_is_401() -> None:
    response = Caller(None).post("$batch", json={"requests": []})
    assert_graph_error(response, 401, "InvalidAuthenticationToken")


def test_a_batch_cannot_nest_a_batch(admin: Caller) -> None:
    answers = _batch(
        admin,
        [
            {
                "id": "1",
                "method": "POST",
                "url": "/$batch",
                "headers": JSON,
                "body": {"requests": []},
            }
        ],
    )
    assert answers["1"]["status"] == 400

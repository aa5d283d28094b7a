"""Fault injection on the sandbox's Graph, seen through the dashboard's own outbound session."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.conf import settings

from graph.outbound import build_outbound_session, outbound_session
from sandbox import faults
from sandbox.models import ExchangeConnector
from sandbox.tenant import exchange_connector_create

pytestmark = pytest.mark.django_db

GRAPH = settings.GRAPH_BASE_URL
EXCHANGE = f"{GRAPH}/deviceManagement/exchangeConnectors"
CONTROL = f"{settings.SANDBOX_GRAPH_ORIGIN}/_sandbox/faults"
# The fault token the control endpoint requires (tests set SANDBOX_FAULTS_TOKEN).
AUTH = {"Authorization": f"Bearer {settings.SANDBOX_FAULTS_TOKEN}"}
NEW_CONNECTOR = {
    "serverName": "EXCH-NEW01.contoso.local",
    "primarySmtpAddress": "svc-new@contoso.com",
    "exchangeConnectorType": "onPremises",
    "status": "connected",
}


@pytest.fixture
def token(graph_token: Callable[..., str]) -> str:
    return graph_token()


def graph(method: str, url: str, token: str | None = None, **kwargs: Any) -> requests.Response:
    headers = {"client-request-id": str(uuid.uuid4())}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return outbound_session().request(method, url, headers=headers, **kwargs)


class TestParseRule:
    def test_defaults(self) -> None:
        rule = faults.parse_rule({"path": "/beta/*", "fault": "429"})
        assert (rule.method, rule.retry_after, rule.times, rule.probability) == ("*", 1, None, 1.0)

    def test_retry_after_can_be_omitted_for_429(self) -> None:
        assert (
            faults.parse_rule({"path": "/b", "fault": "429", "retry_after": None}).retry_after
            is None
        )

    @pytest.mark.parametrize(
        "rule",
        [
            [],
            {"fault": "429"},
            {"path": "/beta/*", "fault": "418"},
            {"path": "/beta/*", "fault": "delay"},
            {"path": "/beta/*", "fault": "delay", "seconds": "1"},
            {"path": "/beta/*", "fault": "429", "retry_after": 1.5},
            {"path": "/beta/*", "fault": "429", "retry_after": -1},
            {"path": "/beta/*", "fault": "drop", "retry_after": 3},
            {"path": "/beta/*", "fault": "500", "times": 0},
            {"path": "/beta/*", "fault": "500", "probability": 0},
            {"path": "/beta/*", "fault": "500", "probability": 1.5},
            {"path": "^/beta/(", "fault": "500"},
            {"path": "/beta/*", "fault": "500", "timess": 2},
        ],
    )
    def test_invalid_rules_are_refused(self, rule: Any) -> None:
        with pytest.raises(faults.InvalidRule):
            faults.parse_rule(rule)

    def test_rule_lists_from_json_text(self) -> None:
        parsed = faults.parse_rules('[{"path": "/beta/*", "fault": "503", "retry_after": 4}]')
        assert [(r.fault, r.retry_after) for r in parsed] == [("503", 4)]
        with pytest.raises(faults.InvalidRule):
            faults.parse_rules("[{")


def test_429_the_next_n_times_then_served(token: str) -> None:
    faults.install(
        {
            "method": "GET",
            "path": "/beta/deviceManagement/*",
            "fault": "429",
            "retry_after": 3,
            "times": 2,
        }
    )
    client_request_id = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {token}", "client-request-id": client_request_id}

    first = outbound_session().get(EXCHANGE, headers=headers)
    second = outbound_session().get(EXCHANGE, headers=headers)
    third = outbound_session().get(EXCHANGE, headers=headers)

    for throttled in (first, second):
        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "3"
        error = throttled.json()["error"]
        assert error["code"] == "TooManyRequests"
        assert error["innerError"]["request-id"] == throttled.headers["request-id"]
        assert error["innerError"]["client-request-id"] == client_request_id
        assert uuid.UUID(throttled.headers["request-id"])
    assert first.headers["request-id"] != second.headers["request-id"]
    assert third.status_code == 200
    assert "value" in third.json()
    assert faults.rules()[0]["hits"] == 2
    assert faults.rules()[0]["remaining"] == 0


@pytest.mark.parametrize(
    ("fault", "status", "code", "retry_after"),
    [
        ("500", 500, "generalException", None),
        ("503", 503, "serviceNotAvailable", 7),
        ("503", 503, "serviceNotAvailable", None),
        ("504", 504, "gatewayTimeout", 2),
    ],
)
def test_server_errors_are_graph_shaped(
    fault: str, status: int, code: str, retry_after: int | None
) -> None:
    rule: dict[str, Any] = {"path": "/beta/*", "fault": fault, "times": 1}
    if retry_after is not None:
        rule["retry_after"] = retry_after
    faults.install(rule)

    response = graph("GET", EXCHANGE)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert response.headers.get("Retry-After") == (str(retry_after) if retry_after else None)
    # The rule is spent: the next request reaches Graph (which wants a token).
    assert graph("GET", EXCHANGE).status_code == 401


def test_code_and_message_can_be_overridden() -> None:
    faults.install({"path": "/beta/*", "fault": "503", "code": "UnknownError", "message": "Boom"})
    error = graph("GET", EXCHANGE).json()["error"]
    assert (error["code"], error["message"]) == ("UnknownError", "Boom")


def test_method_glob_and_regex_select_the_requests(token: str) -> None:
    connector = exchange_connector_create()
    faults.install(
        {"method": "POST", "path": "/beta/deviceManagement/exchangeConnectors*", "fault": "500"},
        {"path": "^/beta/deviceManagement/exchangeConnectors/[^/]+/sync$", "fault": "503"},
    )

    assert graph("GET", EXCHANGE, token).status_code == 200
    assert graph("GET", f"{EXCHANGE}/{connector.id}", token).status_code == 200
    assert graph("POST", EXCHANGE, token, json=NEW_CONNECTOR).status_code == 500
    # Rules are tried in order: the POST rule also matches /sync and comes first.
    sync = graph("POST", f"{EXCHANGE}/{connector.id}/sync", token, json={"syncType": "deltaSync"})
    assert sync.status_code == 500
    faults.remove(faults.rules()[0]["id"])
    sync = graph("POST", f"{EXCHANGE}/{connector.id}/sync", token, json={"syncType": "deltaSync"})
    assert sync.status_code == 503
    assert graph("GET", f"{GRAPH}/deviceManagement/auditEvents", token).status_code == 200


def test_a_probability_is_repeatable_with_its_seed() -> None:
    def sequence(seed: int) -> list[bool]:
        faults.clear()
        faults.install({"path": "/beta/*", "fault": "429", "probability": 0.25, "seed": seed})
        return [faults.intercept("GET", "/beta/x", None) is not None for _ in range(400)]

    first, again, other = sequence(7), sequence(7), sequence(8)

    assert first == again
    assert first != other
    assert 60 <= sum(first) <= 140  # about a quarter, exactly reproducible


def test_a_probability_and_a_count_combine() -> None:
    faults.install({"path": "/beta/*", "fault": "500", "probability": 0.5, "times": 3, "seed": 1})
    fired = [faults.intercept("GET", "/beta/x", None) is not None for _ in range(100)]
    assert sum(fired) == 3


def test_exactly_n_fire_under_concurrency() -> None:
    faults.install({"path": "/beta/*", "fault": "429", "times": 100})
    fired: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        results = [faults.intercept("GET", "/beta/x", None) is not None for _ in range(50)]
        with lock:
            fired.extend(results)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(fired) == 400
    assert sum(fired) == 100


def test_malformed_json_is_a_200_that_does_not_parse() -> None:
    faults.install({"path": "/beta/*", "fault": "malformed", "times": 1})
    response = graph("GET", EXCHANGE)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_a_dropped_connection_raises_and_the_request_is_not_performed(token: str) -> None:
    faults.install({"method": "POST", "path": "/beta/*", "fault": "drop", "times": 1})

    with pytest.raises(requests.ConnectionError):
        graph("POST", EXCHANGE, token, json=NEW_CONNECTOR)

    assert not ExchangeConnector.objects.exists()
    assert graph("POST", EXCHANGE, token, json=NEW_CONNECTOR).status_code == 201


def test_a_delay_shorter_than_the_timeout_only_delays(token: str) -> None:
    faults.install({"path": "/beta/*", "fault": "delay", "seconds": 1, "times": 1})
    started = time.monotonic()
    response = graph("GET", EXCHANGE, token, timeout=(5, 10))
    assert time.monotonic() - started >= 1
    assert response.status_code == 200


def test_a_delay_longer_than_the_read_timeout_times_out(token: str) -> None:
    faults.install({"method": "POST", "path": "/beta/*", "fault": "delay", "seconds": 60})
    started = time.monotonic()

    with pytest.raises(requests.ReadTimeout):
        graph("POST", EXCHANGE, token, json=NEW_CONNECTOR, timeout=(5, 0.5))

    assert time.monotonic() - started >= 0.5
    assert not ExchangeConnector.objects.exists()


def test_the_session_default_timeout_applies(token: str, settings: Any) -> None:
    # No timeout passed: the outbound session's default is the read timeout the sandbox sees.
    faults.install({"path": "/beta/*", "fault": "delay", "seconds": 60})
    settings.OUTBOUND_TIMEOUT_SECONDS = 0.3
    with pytest.raises(requests.ReadTimeout):
        graph("GET", EXCHANGE, token)


def test_inner_batch_requests_get_faults_and_a_drop_aborts_the_batch(token: str) -> None:
    body = {
        "requests": [
            {"id": "1", "method": "GET", "url": "/deviceManagement/exchangeConnectors"},
            {"id": "2", "method": "GET", "url": "/deviceManagement/auditEvents"},
        ]
    }
    faults.install({"path": "/beta/deviceManagement/auditEvents", "fault": "429", "retry_after": 5})

    response = graph("POST", f"{GRAPH}/$batch", token, json=body)

    assert response.status_code == 200
    by_id = {item["id"]: item for item in response.json()["responses"]}
    assert by_id["1"]["status"] == 200
    assert by_id["2"]["status"] == 429
    assert by_id["2"]["headers"]["Retry-After"] == "5"

    faults.clear()
    faults.install({"path": "/beta/deviceManagement/auditEvents", "fault": "drop"})
    with pytest.raises(requests.ConnectionError):
        graph("POST", f"{GRAPH}/$batch", token, json=body)


def test_the_login_host_is_never_faulted() -> None:
    faults.install({"path": "*", "fault": "500"})
    response = graph("GET", f"{settings.ENTRA_AUTHORITY}/v2.0/.well-known/openid-configuration")
    assert response.status_code == 200


class TestControlEndpoint:
    def test_post_get_delete(self) -> None:
        # A session of its own: the token must not ride along on every later test's requests.
        session = build_outbound_session()
        session.headers.update(AUTH)
        created = session.post(
            CONTROL,
            json=[
                {"path": "/beta/*", "fault": "429", "times": 1},
                {"method": "patch", "path": "/beta/*", "fault": "delay", "seconds": 0.1},
            ],
        )
        assert created.status_code == 201
        first, second = created.json()["value"]
        assert second["method"] == "PATCH"

        graph("GET", EXCHANGE)
        listed = session.get(CONTROL).json()["value"]
        assert [(rule["id"], rule["hits"]) for rule in listed] == [
            (first["id"], 1),
            (second["id"], 0),
        ]
        assert session.get(f"{CONTROL}/{second['id']}").json()["seconds"] == 0.1

        assert session.delete(f"{CONTROL}/{first['id']}").status_code == 204
        assert [rule["id"] for rule in faults.rules()] == [second["id"]]
        assert session.delete(f"{CONTROL}/{first['id']}").status_code == 404
        assert session.delete(CONTROL).status_code == 204
        assert session.get(CONTROL).json() == {"value": []}

    def test_a_single_rule_object_is_accepted(self) -> None:
        response = outbound_session().post(
            CONTROL, json={"path": "/beta/*", "fault": "504"}, headers=AUTH
        )
        assert response.status_code == 201
        assert faults.rules()[0]["fault"] == "504"

    def test_invalid_rules_are_a_graph_bad_request_and_nothing_is_installed(self) -> None:
        response = outbound_session().post(
            CONTROL,
            json=[{"path": "/beta/*", "fault": "429"}, {"path": "/beta/*", "fault": "x"}],
            headers=AUTH,
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "BadRequest"
        assert "fault" in response.json()["error"]["message"]
        assert faults.rules() == []
        bad_json = outbound_session().post(
            CONTROL, data=b"{", headers={"Content-Type": "x", **AUTH}
        )
        assert bad_json.status_code == 400

    def test_also_reachable_under_the_dashboards_sandbox_prefix(self, client: Any) -> None:
        response = client.post(
            "/sandbox/_sandbox/faults",
            data=json.dumps({"path": "/beta/*", "fault": "500"}),
            content_type="application/json",
            headers=AUTH,
        )
        assert response.status_code == 201
        listed = client.get("/sandbox/_sandbox/faults", headers=AUTH).json()["value"]
        assert listed[0]["fault"] == "500"

    @pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic dGVzdA=="])
    @pytest.mark.parametrize(
        ("method", "one_rule"), [("get", False), ("post", False), ("delete", False), ("get", True)]
    )
    def test_without_the_fault_token_nothing_is_shown_or_changed(
        self, client: Any, authorization: str | None, method: str, one_rule: bool
    ) -> None:
        [rule] = faults.install({"path": "/beta/*", "fault": "503"})
        url = "/sandbox/_sandbox/faults" + (f"/{rule.id}" if one_rule else "")
        headers = {"Authorization": authorization} if authorization else {}
        response = client.generic(
            method.upper(),
            url,
            data=json.dumps({"path": "/beta/*", "fault": "500"}),
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
        # The rules stay hidden: no rule's fault or path in the answer (its random request id
        # may contain any digits, so look for the rule's own JSON, not the bare number).
        assert '"503"' not in response.content.decode()
        assert "/beta/*" not in response.content.decode()
        assert [rule["fault"] for rule in faults.rules()] == ["503"]


class TestConfiguredRules:
    RULES = [{"path": "/beta/deviceManagement/*", "fault": "503", "retry_after": 9}]

    def test_from_the_setting(self, settings: Any) -> None:
        settings.SANDBOX_FAULTS = json.dumps(self.RULES)
        assert [rule["retry_after"] for rule in faults.reload()] == [9]
        assert graph("GET", EXCHANGE).status_code == 503

    def test_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SANDBOX_FAULTS", json.dumps(self.RULES))
        faults.reload()
        assert graph("GET", EXCHANGE).headers["Retry-After"] == "9"
        faults.clear()
        assert faults.rules() == []

    def test_an_invalid_setting_fails_loudly(self, settings: Any) -> None:
        settings.SANDBOX_FAULTS = '[{"path": "/beta/*"}]'
        with pytest.raises(faults.InvalidRule):
            faults.reload()
        with pytest.raises(faults.InvalidRule):
            faults.intercept("GET", "/beta/x", None)

"""Recording: every Graph write leaves its attempt and its outcome, whatever Graph answers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from audit.models import Action, AuditEntry, Outcome, Phase, TargetType
from audit.selectors import audit_action_list
from audit.services import Actor, Target, audit_record, audited_graph_write
from audit.verification import audit_chain_verify
from graph.errors import (
    GraphError,
    GraphNotFound,
    GraphNotSent,
    GraphPermissionError,
    GraphThrottled,
    GraphTimeout,
    GraphUnavailable,
)
from sandbox.models import ExchangeConnector, RequestLog
from sandbox.tenant import exchange_connector_create
from tests.audit.conftest import ALICE, EXCHANGE, audited_patch, fixed_token_graph
from tests.conftest import ADMIN, LIMITED

pytestmark = pytest.mark.django_db

TARGET = Target(type=TargetType.EXCHANGE_CONNECTOR, id="ex-1", name="EXCH01")


@dataclass(frozen=True)
class FakeAnswer:
    status: int
    request_id: str


def write(**overrides: object) -> object:
    arguments: dict[str, object] = {
        "actor": ALICE,
        "action": Action.EXCHANGE_CONNECTOR_UPDATE,
        "target": TARGET,
        "before": {"status": "connected", "serverName": "exch01"},
        "after": {"status": "disconnected", "serverName": "exch01.contoso.example"},
        "reason": "Decommissioning EXCH01",
    }
    arguments.update(overrides)
    return audited_graph_write(**arguments)  # type: ignore[arg-type]


def rows() -> list[AuditEntry]:
    return list(AuditEntry.objects.order_by("id"))


def test_a_successful_write_leaves_attempt_then_outcome_sharing_the_client_request_id() -> None:
    with write() as graph_write:
        # The attempt is on record before Graph is called.
        assert [row.phase for row in rows()] == [Phase.ATTEMPT]
        graph_write.report(FakeAnswer(status=200, request_id="req-ok-1"))

    attempt, outcome = rows()
    assert str(attempt.correlation_id) == graph_write.correlation_id == str(outcome.correlation_id)
    assert outcome.attempt == attempt
    assert outcome.outcome == Outcome.SUCCEEDED
    assert (outcome.graph_status, outcome.graph_request_id) == (200, "req-ok-1")
    for row in (attempt, outcome):
        assert row.actor_upn == "alice@contoso.example"
        assert row.actor_name == "Alice Admin"
        assert row.tenant_id == ALICE.tenant_id
        assert (row.target_type, row.target_id, row.target_name) == (
            "exchangeConnector",
            "ex-1",
            "EXCH01",
        )
        assert row.before == {"status": "connected", "serverName": "exch01"}
        assert row.after == {"status": "disconnected", "serverName": "exch01.contoso.example"}
        assert row.reason == "Decommissioning EXCH01"
        assert (row.client_ip, row.user_agent, row.channel) == (
            "203.0.113.7",
            "Mozilla/5.0 (audit tests)",
            "web",
        )
    assert outcome.prev_hash == attempt.hash
    assert audit_chain_verify().intact


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (
            GraphPermissionError(
                "Insufficient privileges",
                status=403,
                code="Authorization_RequestDenied",
                request_id="req-403",
                required_permission="DeviceManagementServiceConfig.ReadWrite.All",
            ),
            Outcome.FAILED,
        ),
        (
            GraphThrottled(
                "Too many requests", status=429, code="TooManyRequests", request_id="req-429"
            ),
            Outcome.FAILED,
        ),
        (
            GraphNotFound("No such connector", status=404, code="ResourceNotFound", request_id="4"),
            Outcome.FAILED,
        ),
        (GraphTimeout("No answer within 20 s", request_id=""), Outcome.UNKNOWN),
        (
            GraphUnavailable("Gateway timeout", status=504, code="GatewayTimeout", request_id="r5"),
            Outcome.UNKNOWN,
        ),
        (
            GraphUnavailable("Service unavailable", status=503, code="serviceNotAvailable"),
            Outcome.UNKNOWN,
        ),
        (
            GraphUnavailable("An unspecified error", status=500, code="generalException"),
            Outcome.UNKNOWN,
        ),
        (GraphUnavailable("Graph sent unreadable JSON", status=200), Outcome.UNKNOWN),
        (GraphNotSent("The deadline left no time to send it"), Outcome.FAILED),
    ],
    ids=["403", "429-past-the-bound", "404", "timeout", "504", "503", "500", "malformed", "unsent"],
)
def test_a_failed_write_leaves_an_outcome_with_graphs_code_and_request_id(
    error: GraphError, outcome: Outcome
) -> None:
    with pytest.raises(type(error)), write():
        raise error

    attempt, recorded = rows()
    assert recorded.attempt == attempt
    assert recorded.outcome == outcome
    assert recorded.graph_status == error.status
    assert recorded.graph_code == error.code
    assert recorded.graph_request_id == error.request_id
    assert recorded.error_message == error.message
    listed = audit_action_list().get()
    assert listed.shown_outcome == outcome


def test_a_crash_between_attempt_and_outcome_leaves_an_attempt_shown_as_outcome_unknown() -> None:
    # A process killed mid-call never reaches the outcome: only the attempt is on record.
    audit_record(
        actor=ALICE,
        action=Action.EXCHANGE_CONNECTOR_SYNC,
        target=TARGET,
        phase=Phase.ATTEMPT,
        correlation_id=uuid.uuid4(),
        after={"syncType": "fullSync"},
    )
    assert not AuditEntry.objects.filter(phase=Phase.OUTCOME).exists()
    assert audit_action_list().get().shown_outcome == Outcome.UNKNOWN


def test_an_unexpected_exception_is_recorded_as_outcome_unknown_and_re_raised() -> None:
    with pytest.raises(KeyError), write():
        raise KeyError("value")
    _, outcome = rows()
    assert outcome.outcome == Outcome.UNKNOWN
    assert "KeyError" in outcome.error_message


def test_a_block_that_never_reports_is_not_claimed_as_succeeded() -> None:
    with write():
        pass
    _, outcome = rows()
    assert outcome.outcome == Outcome.UNKNOWN


def test_a_create_records_the_id_graph_assigned_on_its_outcome() -> None:
    target = Target(type=TargetType.CONNECTOR_GROUP, name="Europe")
    with write(action=Action.CONNECTOR_GROUP_CREATE, target=target, before={}) as graph_write:
        graph_write.report(FakeAnswer(status=201, request_id="r201"), target_id="grp-9")
    attempt, outcome = rows()
    assert (attempt.target_id, outcome.target_id) == ("", "grp-9")
    assert list(audit_action_list().filter(outcome_entry__target_id="grp-9")) == [attempt]


def test_the_api_channel_is_recorded() -> None:
    api_actor = Actor(
        oid=ALICE.oid, upn=ALICE.upn, name=ALICE.name, tenant_id=ALICE.tenant_id, channel="api"
    )
    with write(actor=api_actor) as graph_write:
        graph_write.report(FakeAnswer(status=204, request_id="r"))
    assert {row.channel for row in rows()} == {"api"}


def test_actor_from_request_reads_the_user_and_the_request_meta(rf, django_user_model) -> None:
    user = django_user_model(
        oid="oid-1", upn="carol@contoso.example", display_name="Carol", tenant_id="tid-1"
    )
    request = rf.get("/", REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="Edge/130")
    request.user = user
    actor = Actor.from_request(request, channel="api")
    assert actor == Actor(
        oid="oid-1",
        upn="carol@contoso.example",
        name="Carol",
        tenant_id="tid-1",
        client_ip="198.51.100.4",
        user_agent="Edge/130",
        channel="api",
    )
    request = rf.get("/", REMOTE_ADDR="not-an-ip")
    request.user = user
    assert Actor.from_request(request).client_ip == ""


def test_over_long_values_are_shortened_rather_than_losing_the_entry() -> None:
    target = Target(type=TargetType.EXCHANGE_CONNECTOR, id="ex-1", name="N" * 1000)
    with write(target=target) as graph_write:
        graph_write.report(FakeAnswer(status=200, request_id="r"))
    assert all(len(row.target_name) == 255 for row in rows())
    assert audit_chain_verify().intact


# -- The wrapper around real Graph calls to the sandbox tenant -------------------------------


@pytest.fixture
def connector_id() -> str:
    return exchange_connector_create(server_name="EXCH01.contoso.local").id


def sandbox_request(request_id: str) -> RequestLog:
    return RequestLog.objects.get(request_id=request_id)


def test_a_real_graph_write_is_correlated_by_the_client_request_id(
    graph_token: Callable[..., str], connector_id: str
) -> None:
    graph = fixed_token_graph(graph_token(ADMIN))
    response = audited_patch(graph, connector_id, {"version": "15.2"})

    attempt, outcome = rows()
    assert outcome.outcome == Outcome.SUCCEEDED
    assert outcome.graph_status == 200
    assert outcome.graph_request_id == response.request_id != ""
    # What Graph saw: our correlation id as the client-request-id of that very request.
    assert sandbox_request(response.request_id).client_request_id == str(attempt.correlation_id)


def test_a_403_from_graph_leaves_a_failed_outcome_with_code_and_request_id(
    graph_token: Callable[..., str], connector_id: str
) -> None:
    graph = fixed_token_graph(graph_token(LIMITED))
    with pytest.raises(GraphPermissionError) as raised:
        audited_patch(graph, connector_id, {"version": "15.2"})

    attempt, outcome = rows()
    assert outcome.outcome == Outcome.FAILED
    # Intune's dialect: code Forbidden, and the sentence, never the JSON wrapper, as the message.
    assert (outcome.graph_status, outcome.graph_code) == (403, "Forbidden")
    assert outcome.error_message.startswith("Application is not authorized to perform this")
    assert "{" not in outcome.error_message and "Operation ID" not in outcome.error_message
    assert outcome.graph_request_id == raised.value.request_id != ""
    assert sandbox_request(outcome.graph_request_id).client_request_id == str(
        attempt.correlation_id
    )
    assert ExchangeConnector.objects.get(pk=connector_id).version != "15.2"


def test_a_429_past_the_retry_bound_leaves_a_failed_outcome(
    graph_token: Callable[..., str], connector_id: str, sandbox_faults
) -> None:
    sandbox_faults.install(
        {"method": "PATCH", "path": f"/beta/{EXCHANGE}/*", "fault": "429", "retry_after": 120}
    )
    graph = fixed_token_graph(graph_token(ADMIN))
    with pytest.raises(GraphThrottled) as raised:
        audited_patch(graph, connector_id, {"version": "15.2"})

    _, outcome = rows()
    assert outcome.outcome == Outcome.FAILED
    assert (outcome.graph_status, outcome.graph_code) == (429, "TooManyRequests")
    assert outcome.graph_request_id == raised.value.request_id != ""


def test_a_timed_out_write_is_recorded_as_outcome_unknown(
    graph_token: Callable[..., str], connector_id: str, sandbox_faults, short_graph_timeout
) -> None:
    sandbox_faults.install(
        {"method": "PATCH", "path": f"/beta/{EXCHANGE}/*", "fault": "delay", "seconds": 5}
    )
    graph = fixed_token_graph(graph_token(ADMIN))
    with pytest.raises(GraphTimeout):
        audited_patch(graph, connector_id, {"version": "15.2"})

    _, outcome = rows()
    assert outcome.outcome == Outcome.UNKNOWN
    assert outcome.graph_status is None
    assert outcome.error_message
    assert audit_action_list().get().shown_outcome == Outcome.UNKNOWN

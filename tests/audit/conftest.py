"""Fixtures for the audit tests: an actor, and a quick way to record whole actions."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from audit.models import Action, AuditEntry, Outcome, Phase, TargetType
from audit.services import Actor, Target, audit_record, audited_graph_write
from graph.client import GraphClient
from graph.outbound import outbound_session
from graph.responses import GraphResponse
from graph.retry import RetryPolicy

ALICE = Actor(
    oid="0a11ce00-0000-4000-8000-000000000001",
    upn="alice@contoso.example",
    name="Alice Admin",
    tenant_id="5a4d0b0e-0000-4c0d-9e00-5a4db0c5e7a1",
    client_ip="203.0.113.7",
    user_agent="Mozilla/5.0 (audit tests)",
)
BOB = Actor(
    oid="0b0b0000-0000-4000-8000-000000000002",
    upn="bob@contoso.example",
    name="Bob Operator",
    tenant_id="5a4d0b0e-0000-4c0d-9e00-5a4db0c5e7a1",
    client_ip="2001:db8::2",
    user_agent="curl/8.0",
)

RecordAction = Callable[..., AuditEntry]


@pytest.fixture
def record_action() -> RecordAction:
    """Record an attempt and (unless outcome=None) its outcome; returns the attempt."""

    def record(
        *,
        actor: Actor = ALICE,
        action: str = Action.EXCHANGE_CONNECTOR_UPDATE,
        target_type: str = TargetType.EXCHANGE_CONNECTOR,
        target_id: str = "ex-1",
        target_name: str = "EXCH01",
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        reason: str = "",
        outcome: Outcome | None = Outcome.SUCCEEDED,
        graph_status: int | None = 200,
        graph_code: str = "",
        graph_request_id: str = "",
    ) -> AuditEntry:
        target = Target(type=target_type, id=target_id, name=target_name)
        common: dict[str, Any] = {
            "actor": actor,
            "action": action,
            "target": target,
            "correlation_id": uuid.uuid4(),
            "before": before if before is not None else {"status": "connected"},
            "after": after if after is not None else {"status": "disconnected"},
            "reason": reason,
        }
        attempt = audit_record(phase=Phase.ATTEMPT, **common)
        if outcome is not None:
            audit_record(
                phase=Phase.OUTCOME,
                attempt=attempt,
                outcome=outcome,
                graph_status=graph_status,
                graph_code=graph_code,
                graph_request_id=graph_request_id or str(uuid.uuid4()),
                **common,
            )
        return attempt

    return record


EXCHANGE = "deviceManagement/exchangeConnectors"


def fixed_token_graph(token: str) -> GraphClient:
    """A GraphClient on the sandbox with one real token; no retries (one attempt each)."""

    def provider(scopes: Sequence[str], *, force_refresh: bool = False) -> str:
        return token

    return GraphClient(provider, retry=RetryPolicy(max_attempts=1))


def audited_patch(
    graph: GraphClient, connector_id: str, changes: dict[str, Any], *, actor: Actor = ALICE
) -> GraphResponse:
    """An Exchange connector edit the way a write service does it: audited, correlated."""
    with audited_graph_write(
        actor=actor,
        action=Action.EXCHANGE_CONNECTOR_UPDATE,
        target=Target(type=TargetType.EXCHANGE_CONNECTOR, id=connector_id, name="EXCH01"),
        before=dict.fromkeys(changes, ""),
        after=changes,
        reason="audit test",
    ) as write:
        response = graph.patch(
            f"{EXCHANGE}/{connector_id}", json=changes, client_request_id=write.correlation_id
        )
        write.report(response)
    return response


@pytest.fixture
def short_graph_timeout() -> Iterator[float]:
    """The outbound session's read timeout cut to 0.3 s, so a delayed answer times out fast."""
    session = outbound_session()
    previous = session.timeout
    session.timeout = 0.3
    yield 0.3
    session.timeout = previous

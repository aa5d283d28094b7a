"""Fixtures for the audit tests: an actor, and a quick way to record whole actions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from audit.models import Action, AuditEntry, Outcome, Phase, TargetType
from audit.services import Actor, Target, audit_record

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

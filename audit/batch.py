"""Auditing many Graph writes sent in one `$batch`: an attempt and an outcome for each of them.

    with audited_graph_batch(actor=actor, action=action, items=items) as writes:
        results = graph.batch([... headers={"client-request-id": write.correlation_id} ...])
        for write in writes:
            write.report(results[write.item_id])

Every attempt is committed before the batch leaves. An item reported with a failed result gets
a failed (or unknown) outcome with Graph's status, code and request id; an item never reported,
or a batch that failed as a whole, gets the outcome its error implies.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from audit.models import AuditEntry, Outcome, Phase
from audit.services import Actor, Target, audit_record, failure_outcome
from graph.errors import GraphError


class BatchAnswer(Protocol):
    """What is kept of one item's answer (graph's BatchResult)."""

    @property
    def status(self) -> int: ...

    @property
    def request_id(self) -> str: ...

    @property
    def error(self) -> GraphError | None: ...


@dataclass(frozen=True)
class BatchItem:
    item_id: str
    target: Target
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class BatchItemWrite:
    item: BatchItem
    correlation_id: str
    attempt: AuditEntry
    answer: BatchAnswer | None = None

    @property
    def item_id(self) -> str:
        return self.item.item_id

    def report(self, answer: BatchAnswer) -> None:
        self.answer = answer


@contextmanager
def audited_graph_batch(
    *, actor: Actor, action: str, items: Sequence[BatchItem], reason: str = ""
) -> Iterator[list[BatchItemWrite]]:
    writes = []
    for item in items:
        correlation_id = uuid.uuid4()
        attempt = audit_record(
            actor=actor,
            action=action,
            target=item.target,
            phase=Phase.ATTEMPT,
            correlation_id=correlation_id,
            before=item.before,
            after=item.after,
            reason=reason,
        )
        writes.append(BatchItemWrite(item, str(correlation_id), attempt))
    try:
        yield writes
    except GraphError as error:
        for write in writes:
            _record_outcome(actor, action, write, reason, error=error)
        raise
    except Exception as error:
        for write in writes:
            _record_outcome(actor, action, write, reason, crash=f"{type(error).__name__}: {error}")
        raise
    for write in writes:
        _record_outcome(actor, action, write, reason)


def _record_outcome(
    actor: Actor,
    action: str,
    write: BatchItemWrite,
    reason: str,
    *,
    error: GraphError | None = None,
    crash: str = "",
) -> None:
    answer = write.answer
    failure = error or (answer.error if answer is not None else None)
    operation_id = getattr(failure, "operation_id", "") if failure is not None else ""
    activity_id = getattr(failure, "activity_id", "") if failure is not None else ""
    if failure is not None:
        outcome, status, code, request_id, message = (
            failure_outcome(failure),
            failure.status,
            failure.code,
            failure.request_id,
            failure.message,
        )
    elif answer is not None:
        outcome, status, code, request_id, message = (
            Outcome.SUCCEEDED,
            answer.status,
            "",
            answer.request_id,
            "",
        )
    else:
        outcome, status, code, request_id, message = (
            Outcome.UNKNOWN,
            None,
            "",
            "",
            crash or "The batch ended without an answer for this request.",
        )
    audit_record(
        actor=actor,
        action=action,
        target=write.item.target,
        phase=Phase.OUTCOME,
        correlation_id=uuid.UUID(write.correlation_id),
        attempt=write.attempt,
        before=write.item.before,
        after=write.item.after,
        reason=reason,
        outcome=outcome,
        graph_status=status,
        graph_code=code,
        graph_request_id=request_id,
        graph_operation_id=operation_id,
        graph_activity_id=activity_id,
        error_message=message,
    )

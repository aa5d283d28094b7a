"""Writing the audit log: `audit_record` appends one entry; `audited_graph_write` wraps a write.

Every write service records through these, success or failure:

    actor = Actor.from_request(request)                   # in the view (channel="api" in APIs)
    with audited_graph_write(
        actor=actor,
        action=Action.EXCHANGE_CONNECTOR_UPDATE,
        target=Target(type=TargetType.EXCHANGE_CONNECTOR, id=connector_id, name=server_name),
        before={"status": "connected"},
        after={"status": "disconnected"},
        reason=reason,
    ) as write:
        response = graph.patch(path, json=changes, client_request_id=write.correlation_id)
        write.report(response)

The attempt is committed before the block runs, so a crash inside it still leaves the attempt
(shown as "outcome unknown"). Must not run inside a caller's `transaction.atomic()`: a rollback
there would take the attempt with it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.db import connections, router, transaction
from django.utils import timezone

from audit import chain
from audit.models import AuditEntry, Channel, Outcome, Phase
from graph.errors import GraphError, may_have_been_applied
from kernel.tenancy import acting_tenant_id

if TYPE_CHECKING:
    from django.http import HttpRequest

# One key for the PostgreSQL advisory lock that serializes appends (a stable 63-bit number).
CHAIN_LOCK_KEY = int.from_bytes(hashlib.sha256(b"audit.AuditEntry chain").digest()[:8]) >> 1


@dataclass(frozen=True)
class Actor:
    """Who acted and from where: built in the view so that services never see HttpRequest."""

    oid: str
    upn: str
    name: str
    tenant_id: str
    client_ip: str = ""
    user_agent: str = ""
    channel: Channel = Channel.WEB

    @classmethod
    def from_request(cls, request: HttpRequest, *, channel: Channel = Channel.WEB) -> Actor:
        user = request.user
        return cls(
            oid=user.oid,
            upn=user.upn,
            name=user.display_name,
            # The tenant acted in: the one in the request's path (the URL the Graph client was
            # built for), never a value the caller sends.
            tenant_id=acting_tenant_id(request),
            client_ip=_ip_or_blank(request.META.get("REMOTE_ADDR", "")),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            channel=channel,
        )

    @classmethod
    def watch(cls, *, oid: str, upn: str, name: str, tenant_id: str, via: str) -> Actor:
        """The watch acting in the background for the admin who signed in for it; `via` names
        the schedule or rule that made it act (kept as the entry's user agent)."""
        return cls(
            oid=oid,
            upn=upn,
            name=name,
            tenant_id=tenant_id,
            user_agent=f"Connector Dashboard watch: {via}",
            channel=Channel.WATCH,
        )


@dataclass(frozen=True)
class Target:
    """The object changed. `id` may be blank on a create's attempt (Graph assigns it)."""

    type: str
    id: str = ""
    name: str = ""


class GraphAnswer(Protocol):
    """What the audit log keeps of a successful Graph answer (graph's GraphResponse)."""

    @property
    def status(self) -> int: ...

    @property
    def request_id(self) -> str: ...


def _ip_or_blank(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""


def _json_object(value: Mapping[str, Any] | None) -> dict[str, Any]:
    # Stored as it will be read back, so the hash computed now matches the row later.
    return json.loads(json.dumps(dict(value or {}), default=str))


def _fit(entry: AuditEntry) -> None:
    """Shorten over-long text to the column's size: a long name must never lose an audit row."""
    for model_field in AuditEntry._meta.concrete_fields:
        limit = getattr(model_field, "max_length", None)
        value = getattr(entry, model_field.attname)
        if limit and isinstance(value, str) and len(value) > limit:
            setattr(entry, model_field.attname, value[: limit - 1] + "…")


def _lock_chain(using: str) -> None:
    """Serialize appends so each new row links to the true newest one.

    PostgreSQL: a transaction-level advisory lock, released at commit. Because the id comes from
    the sequence at INSERT, after the lock, id order is chain order. SQLite: the settings open
    every transaction with BEGIN IMMEDIATE, which already holds the database's write lock.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def audit_record(
    *,
    actor: Actor,
    action: str,
    target: Target,
    phase: Phase,
    correlation_id: uuid.UUID,
    attempt: AuditEntry | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str = "",
    outcome: Outcome | None = None,
    graph_status: int | None = None,
    graph_code: str = "",
    graph_request_id: str = "",
    graph_operation_id: str = "",
    graph_activity_id: str = "",
    error_message: str = "",
) -> AuditEntry:
    """Append one entry to the chain and commit it; returns the stored entry."""
    if (phase == Phase.OUTCOME) != (outcome is not None):
        raise ValueError("An outcome row needs an outcome; an attempt row has none.")
    entry = AuditEntry(
        correlation_id=correlation_id,
        phase=phase,
        attempt=attempt,
        actor_oid=actor.oid,
        actor_upn=actor.upn,
        actor_name=actor.name,
        tenant_id=actor.tenant_id,
        action=str(action),
        target_type=str(target.type),
        target_id=target.id,
        target_name=target.name,
        before=_json_object(before),
        after=_json_object(after),
        reason=reason,
        outcome=str(outcome or ""),
        graph_status=graph_status,
        graph_code=graph_code,
        graph_request_id=graph_request_id,
        graph_operation_id=graph_operation_id,
        graph_activity_id=graph_activity_id,
        error_message=error_message,
        client_ip=actor.client_ip,
        user_agent=actor.user_agent,
        channel=str(actor.channel),
    )
    _fit(entry)
    keys = chain.configured_keys()
    entry.key_id = keys.current_id
    using = router.db_for_write(AuditEntry)
    with transaction.atomic(using=using):
        _lock_chain(using)
        head = AuditEntry.objects.using(using).order_by("-id").values_list("hash", flat=True)
        entry.prev_hash = head.first() or chain.GENESIS_HASH
        # Stamped under the lock, so time order and chain order agree.
        entry.created_at = timezone.now()
        entry.hash = chain.entry_hash(entry, keys)
        entry.save(using=using)
    return entry


@dataclass
class GraphWrite:
    """Handed to the caller of `audited_graph_write`: the id to send, and where to report."""

    correlation_id: str
    attempt: AuditEntry
    status: int | None = None
    request_id: str = ""
    after: Mapping[str, Any] | None = None
    target_id: str = ""
    reported: bool = field(default=False, repr=False)

    def report(
        self,
        response: GraphAnswer | None = None,
        *,
        after: Mapping[str, Any] | None = None,
        target_id: str = "",
    ) -> None:
        """Graph accepted the write. `after`: the values as applied, if they differ from the
        request; `target_id`: the id Graph assigned on a create."""
        if response is not None:
            self.status = response.status
            self.request_id = response.request_id
        self.after = after
        self.target_id = target_id
        self.reported = True


def failure_outcome(error: GraphError) -> Outcome:
    """A failed write's outcome, for single writes and `$batch` items alike (docs/audit.md).

    Failed: Graph certainly did not apply it (4xx, 429, never sent). Unknown: it may have
    (a timeout, a dropped connection, a 5xx, an unreadable answer).
    """
    return Outcome.UNKNOWN if may_have_been_applied(error) else Outcome.FAILED


@contextmanager
def audited_graph_write(
    *,
    actor: Actor,
    action: str,
    target: Target,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str = "",
) -> Iterator[GraphWrite]:
    """Record the attempt, run the block (the Graph call), then record its outcome.

    A GraphError is recorded with its status, code and request id, then re-raised. Any other
    exception is recorded as "outcome unknown" (the request may have left) and re-raised. A block
    that ends without `write.report(...)` is recorded as "outcome unknown" too: nothing said
    Graph accepted it.
    """
    correlation_id = uuid.uuid4()
    common: dict[str, Any] = {
        "actor": actor,
        "action": action,
        "correlation_id": correlation_id,
        "before": before,
        "reason": reason,
    }
    attempt = audit_record(phase=Phase.ATTEMPT, target=target, after=after, **common)
    write = GraphWrite(correlation_id=str(correlation_id), attempt=attempt)
    outcome = {"phase": Phase.OUTCOME, "attempt": attempt, **common}
    try:
        yield write
    except GraphError as error:
        audit_record(
            target=target,
            after=after,
            outcome=failure_outcome(error),
            graph_status=error.status,
            graph_code=error.code,
            graph_request_id=error.request_id,
            graph_operation_id=getattr(error, "operation_id", ""),
            graph_activity_id=getattr(error, "activity_id", ""),
            error_message=str(error.message),
            **outcome,
        )
        raise
    except Exception as error:
        audit_record(
            target=target,
            after=after,
            outcome=Outcome.UNKNOWN,
            error_message=f"{type(error).__name__}: {error}",
            **outcome,
        )
        raise
    if not write.reported:
        audit_record(
            target=target,
            after=after,
            outcome=Outcome.UNKNOWN,
            error_message="The write ended without reporting Graph's answer.",
            **outcome,
        )
        return
    audit_record(
        target=Target(type=target.type, id=write.target_id or target.id, name=target.name),
        after=write.after if write.after is not None else after,
        outcome=Outcome.SUCCEEDED,
        graph_status=write.status,
        graph_request_id=write.request_id,
        **outcome,
    )

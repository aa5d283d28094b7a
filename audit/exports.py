"""CSV export of audit actions, produced row by row so a large log never sits in memory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from audit.models import AuditEntry
from kernel.csv_export import csv_cell, csv_writer

HEADER = [
    "id",
    "time_utc",
    "actor_upn",
    "actor_name",
    "actor_oid",
    "tenant_id",
    "channel",
    "action",
    "target_type",
    "target_id",
    "target_name",
    "before",
    "after",
    "reason",
    "outcome",
    "graph_status",
    "graph_code",
    "graph_request_id",
    "graph_operation_id",
    "graph_activity_id",
    "error_message",
    "correlation_id",
    "client_ip",
    "user_agent",
    "attempt_hash",
    "outcome_hash",
]
# Rows per chunk handed to the server: big enough to avoid a write per row, small enough to
# keep memory flat.
ROWS_PER_CHUNK = 500


def _row(entry: AuditEntry) -> list[str]:
    outcome = entry.outcome_row
    result = entry.result_row or entry
    after = result.after
    values: list[Any] = [
        entry.pk,
        entry.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        entry.actor_upn,
        entry.actor_name,
        entry.actor_oid,
        entry.tenant_id,
        entry.channel,
        entry.action,
        entry.target_type,
        entry.shown_target_id,
        entry.target_name,
        entry.before,
        after,
        entry.reason,
        entry.shown_outcome,
        result.graph_status,
        result.graph_code,
        result.graph_request_id,
        result.graph_operation_id,
        result.graph_activity_id,
        result.error_message,
        entry.correlation_id,
        entry.client_ip,
        entry.user_agent,
        entry.hash,
        outcome.hash if outcome is not None else "",
    ]
    return [csv_cell(value) for value in values]


def audit_csv_chunks(rows: QuerySet[AuditEntry], *, chunk_size: int = 1000) -> Iterator[str]:
    """The CSV text of `rows` (from `audit_action_list`) in chunks, read with a DB iterator."""
    writer = csv_writer()
    yield writer.writerow(HEADER)
    buffer: list[str] = []
    for entry in rows.iterator(chunk_size=chunk_size):
        buffer.append(writer.writerow(_row(entry)))
        if len(buffer) >= ROWS_PER_CHUNK:
            yield "".join(buffer)
            buffer.clear()
    if buffer:
        yield "".join(buffer)

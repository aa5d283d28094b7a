"""The hash chain: a row's canonical JSON and its SHA-256 over the previous row's hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.models import AuditEntry

# The first entry's prev_hash.
GENESIS_HASH = "0" * 64

# Every stored column but `id` and `hash`. Appending a column to the model means appending its
# name here in a new version of the canonical form, or old rows would no longer verify.
HASHED_FIELDS = (
    "created_at",
    "correlation_id",
    "phase",
    "attempt_id",
    "actor_oid",
    "actor_upn",
    "actor_name",
    "tenant_id",
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
    "error_message",
    "client_ip",
    "user_agent",
    "channel",
    "prev_hash",
)


def _canonical_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # Both databases keep microseconds; a fixed UTC format makes the text independent of
        # the connection's time zone.
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, float) and value.is_integer():
        # PostgreSQL's jsonb gives 1e+16 back as an integer: hash integral numbers as integers.
        return int(value)
    if isinstance(value, dict):
        return {str(key): _canonical_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # UUIDs, and the str-like values of TextChoices


def canonical_json(entry: AuditEntry) -> str:
    payload = {name: _canonical_value(getattr(entry, name)) for name in HASHED_FIELDS}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256((entry.prev_hash + canonical_json(entry)).encode("utf-8")).hexdigest()

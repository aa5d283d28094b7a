"""The keyed hash chain: a row's canonical JSON and its HMAC over the previous row's hash.

Two forms exist side by side:

- keyed (every entry written since `audit.0003`): `hash = HMAC-SHA256(key[key_id], prev_hash +
  canonical JSON of KEYED_FIELDS)`. The key lives outside the database (AUDIT_CHAIN_KEY), so
  write access to the table is not enough to forge or rewrite entries.
- legacy (entries written before `audit.0003`, `key_id` blank): `hash = SHA-256(prev_hash +
  canonical JSON of LEGACY_FIELDS)`. They are kept as written; the keyed entry that follows them
  (the seal `audit.0003` appends) covers the last legacy hash, so rewriting them breaks the link.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

# The first entry's prev_hash.
GENESIS_HASH = "0" * 64
# The key id of the entries written before the chain was keyed.
LEGACY_KEY_ID = ""

# The canonical form of legacy entries: every column `audit.0001` had but `id` and `hash`.
LEGACY_FIELDS = (
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
# The canonical form of keyed entries. Appending a column to the model means a new tuple here
# (and a new form chosen by key id or a version column), or old rows would no longer verify.
KEYED_FIELDS = (
    *LEGACY_FIELDS,
    "graph_operation_id",
    "graph_activity_id",
    "key_id",
)


class HashedRow(Protocol):
    """What the chain reads of a row: its columns by attribute name."""

    prev_hash: str
    key_id: str


class UnknownKeyError(LookupError):
    """An entry or checkpoint names a key id that is not configured."""


@dataclass(frozen=True)
class ChainKeys:
    """The current key (new entries) and every key that may still be needed to verify."""

    current_id: str
    keys: Mapping[str, bytes]

    def secret(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise UnknownKeyError(
                f"audit chain key {key_id!r} is not configured (AUDIT_CHAIN_KEY_ID / "
                "AUDIT_CHAIN_RETIRED_KEYS)"
            ) from None


def configured_keys() -> ChainKeys:
    """The keys from the settings: AUDIT_CHAIN_KEY as AUDIT_CHAIN_KEY_ID, plus retired ones."""
    keys = {key_id: secret.encode() for key_id, secret in settings.AUDIT_CHAIN_RETIRED_KEYS.items()}
    keys[settings.AUDIT_CHAIN_KEY_ID] = settings.AUDIT_CHAIN_KEY.encode()
    return ChainKeys(current_id=settings.AUDIT_CHAIN_KEY_ID, keys=keys)


def canonical_value(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value  # most columns: the fast path of a walk over a million rows
    if isinstance(value, dt.datetime):
        # Both databases keep microseconds; a fixed UTC format makes the text independent of
        # the connection's time zone.
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, float) and value.is_integer():
        # PostgreSQL's jsonb gives 1e+16 back as an integer: hash integral numbers as integers.
        return int(value)
    if isinstance(value, dict):
        return {str(key): canonical_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # UUIDs, and the str-like values of TextChoices


def canonical_json(entry: HashedRow, fields: tuple[str, ...] = KEYED_FIELDS) -> str:
    payload = {name: canonical_value(getattr(entry, name)) for name in fields}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def legacy_hash(entry: HashedRow) -> str:
    """The unkeyed SHA-256 of an entry written before the chain was keyed."""
    text = entry.prev_hash + canonical_json(entry, LEGACY_FIELDS)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def keyed_hash(entry: HashedRow, secret: bytes) -> str:
    text = entry.prev_hash + canonical_json(entry, KEYED_FIELDS)
    return hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


def entry_hash(entry: HashedRow, keys: ChainKeys | None = None) -> str:
    """The hash `entry` must carry: legacy SHA-256 for a blank key id, else the HMAC under the
    key its key id names. Raises UnknownKeyError for a key id that is not configured."""
    if entry.key_id == LEGACY_KEY_ID:
        return legacy_hash(entry)
    return keyed_hash(entry, (keys or configured_keys()).secret(entry.key_id))


def mac(payload: Mapping[str, Any], secret: bytes) -> str:
    """HMAC-SHA256 of a small JSON object (checkpoints), in canonical form."""
    text = json.dumps(canonical_value(dict(payload)), sort_keys=True, separators=(",", ":"))
    return hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())

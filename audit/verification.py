"""Verifying the audit chain: one streaming pass in id order, each span checked with its key.

Memory stays constant (a server-side cursor on PostgreSQL, `iterator(chunk_size)`); the report
says how many entries each key covered and how fast the walk went.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from audit import chain
from audit.checkpoints import Checkpoint
from audit.models import AuditEntry

ROW_FIELDS = ("id", "hash", *chain.KEYED_FIELDS)


class ChainRow(chain.HashedRow, Protocol):
    """A row as the walk reads it (a named tuple of ROW_FIELDS)."""

    id: int
    hash: str


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the chain: the entries seen, and the first thing that is wrong."""

    count: int
    broken_entry_id: int | None = None
    problem: str = ""
    # Entries per key id ("" = legacy, unkeyed), in the order the spans appear.
    spans: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return not self.problem

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


class _Walk:
    """The state of one pass: the link expected next, counts, and the checkpoint's anchor."""

    def __init__(self, keys: chain.ChainKeys, checkpoint: Checkpoint | None) -> None:
        self.keys = keys
        self.checkpoint = checkpoint
        self.expected_prev = chain.GENESIS_HASH
        self.previous_id: int | None = None
        self.count = 0
        self.spans: Counter[str] = Counter()
        self.anchored = False

    def problem(self, entry: ChainRow) -> str:
        """What is wrong with the next entry, or ""."""
        if entry.prev_hash != self.expected_prev:
            after = f"entry #{self.previous_id}" if self.previous_id else "the start of the log"
            return (
                f"its prev_hash does not match the hash of {after} "
                "(entries were removed, inserted or reordered there)"
            )
        if entry.key_id == chain.LEGACY_KEY_ID and self.spans.keys() - {chain.LEGACY_KEY_ID}:
            return "it is an unkeyed (legacy) entry after keyed ones: written without the key"
        try:
            expected = chain.entry_hash(entry, self.keys)
        except chain.UnknownKeyError as exc:
            return f"it was signed with a key that is not configured ({exc})"
        if not chain.same_digest(expected, entry.hash):
            return (
                "its content does not match its hash (the entry was changed, or the chain was "
                "rewritten without the key)"
            )
        return self._checkpoint_problem(entry)

    def _checkpoint_problem(self, entry: ChainRow) -> str:
        checkpoint = self.checkpoint
        if checkpoint is None or self.anchored:
            return ""
        if entry.id == checkpoint.last_id:
            self.anchored = True
            if entry.hash != checkpoint.last_hash or self.count + 1 != checkpoint.count:
                return (
                    f"it is the checkpoint's last entry but its hash or position differs "
                    f"(checkpoint: {checkpoint.count} entries up to here)"
                )
        elif entry.id > checkpoint.last_id:
            return f"entry #{checkpoint.last_id}, the checkpoint's last entry, is missing"
        return ""

    def accept(self, entry: ChainRow) -> None:
        self.count += 1
        self.spans[entry.key_id] += 1
        self.expected_prev = entry.hash
        self.previous_id = entry.id

    def end_problem(self) -> str:
        """After the last entry: what a checkpoint says should still have been there."""
        checkpoint = self.checkpoint
        if checkpoint is None or self.anchored:
            return ""
        if self.count == 0:
            return (
                f"the log is empty, but the checkpoint of {checkpoint.time:%Y-%m-%d %H:%M:%S} UTC "
                f"holds {checkpoint.count} entries up to #{checkpoint.last_id}: it was emptied"
            )
        return (
            f"the log ends at entry #{self.previous_id} after {self.count} entries, but the "
            f"checkpoint of {checkpoint.time:%Y-%m-%d %H:%M:%S} UTC holds {checkpoint.count} "
            f"entries up to #{checkpoint.last_id}: entries after #{self.previous_id} up to "
            f"#{checkpoint.last_id} were removed"
        )


def audit_chain_verify(
    *, checkpoint: Checkpoint | None = None, chunk_size: int = 2000
) -> ChainReport:
    """Walk every entry in id order, recomputing each hash and checking each link; with a
    checkpoint, also that its last entry is still there, unchanged, at the same position."""
    keys = chain.configured_keys()
    started = time.perf_counter()
    if checkpoint is not None and not checkpoint.authentic(keys):
        return ChainReport(
            count=0,
            problem=(
                "the checkpoint is not authentic: its HMAC does not match under key "
                f"{checkpoint.key_id!r} (altered, or that key is not configured)"
            ),
        )
    walk = _Walk(keys, checkpoint)

    def report(problem: str = "", broken: int | None = None) -> ChainReport:
        return ChainReport(
            count=walk.count,
            broken_entry_id=broken,
            problem=problem,
            spans=dict(walk.spans),
            seconds=time.perf_counter() - started,
        )

    # Plain rows (named tuples) rather than model instances: half the cost of a long walk.
    rows = (
        AuditEntry.objects.order_by("id")
        .values_list(*ROW_FIELDS, named=True)
        .iterator(chunk_size=chunk_size)
    )
    for entry in rows:
        problem = walk.problem(entry)
        if problem:
            walk.count += 1
            return report(problem, entry.id)
        walk.accept(entry)
    return report(walk.end_problem())

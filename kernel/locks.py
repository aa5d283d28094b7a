"""One lock per name, held across workers and hosts through the shared database.

    with object_lock("exchangeConnector:1234", wait_seconds=10):
        ...  # read, check, write: no other holder of the same name runs meanwhile

PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`), released when the block
ends or, if the process dies, when its connection closes. It is not a transaction-level lock
on purpose: the block must be free to commit (the audit log commits each attempt before Graph
is called). Other databases (SQLite, one host): a lease row in `kernel_object_lock`, inserted
under SQLite's own write lock, deleted at the end, and taken over once expired (a crashed
holder). Waiting is bounded by `wait_seconds`; past it, `LockTimeout`.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.utils import timezone

from kernel.models import ObjectLock

POLL_SECONDS = 0.05
# A lease outlives its holder's work by this much, so only a dead holder's lease expires.
LEASE_MARGIN_SECONDS = 30.0


class LockTimeout(Exception):
    """Another holder kept the lock longer than the caller could wait."""


def advisory_key(name: str) -> int:
    """A stable signed 64-bit number for `name` (PostgreSQL's advisory lock key)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def object_lock(
    name: str, *, wait_seconds: float, hold_seconds: float = 0.0, using: str = DEFAULT_DB_ALIAS
) -> Iterator[None]:
    """Hold the lock called `name` for the block; `hold_seconds` is how long the block may take
    (the lease, on databases without advisory locks)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with _advisory(connection, advisory_key(name), wait_seconds):
            yield
    else:
        with _lease(name, wait_seconds, hold_seconds, using):
            yield


def _poll(try_once, wait_seconds: float, name: str) -> None:  # type: ignore[no-untyped-def]
    give_up = time.monotonic() + wait_seconds
    while not try_once():
        if time.monotonic() + POLL_SECONDS > give_up:
            raise LockTimeout(f"{name} stayed locked for {wait_seconds:.1f} s.")
        time.sleep(POLL_SECONDS)


@contextlib.contextmanager
def _advisory(connection, key: int, wait_seconds: float) -> Iterator[None]:  # type: ignore[no-untyped-def]
    def try_once() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            return bool(cursor.fetchone()[0])

    _poll(try_once, wait_seconds, f"Advisory lock {key}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


@contextlib.contextmanager
def _lease(name: str, wait_seconds: float, hold_seconds: float, using: str) -> Iterator[None]:
    owner = str(uuid.uuid4())
    lease = timedelta(seconds=hold_seconds + LEASE_MARGIN_SECONDS)

    def try_once() -> bool:
        now = timezone.now()
        try:
            with transaction.atomic(using=using):
                ObjectLock.objects.using(using).filter(key=name, expires_at__lt=now).delete()
                ObjectLock.objects.using(using).create(
                    key=name, owner=owner, expires_at=now + lease
                )
        except IntegrityError:
            return False
        return True

    _poll(try_once, wait_seconds, name)
    try:
        yield
    finally:
        ObjectLock.objects.using(using).filter(key=name, owner=owner).delete()

"""Every way to tamper with the log is caught by `audit_verify`, pointed at the first bad entry or
the missing span, and refused outright to the application role where PostgreSQL can refuse it.

The tampering itself is done as the database owner with the triggers lifted for the test's
transaction: the attacker who gets that far is what the key and the checkpoints are for.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit import chain
from audit.checkpoints import Checkpoint, take_checkpoint
from audit.models import AuditEntry
from audit.privileges import grant_application_role
from audit.services import Target, audit_record
from audit.verification import audit_chain_verify
from tests.audit.conftest import ALICE, RecordAction

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL=postgres://…)"
    ),
]
TABLE = "audit_auditentry"


@contextmanager
def as_owner_without_triggers() -> Iterator[Any]:
    """The owner lifting the append-only triggers, as an attacker with the owner's password."""
    # ALTER TABLE waits for no deferred constraint checks: run the pending ones first.
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS ALL IMMEDIATE; ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        try:
            yield cursor
        finally:
            cursor.execute(
                f"SET CONSTRAINTS ALL IMMEDIATE; ALTER TABLE {TABLE} ENABLE TRIGGER USER;"
                "SET CONSTRAINTS ALL DEFERRED"
            )


def six_entries(record_action: RecordAction) -> list[AuditEntry]:
    for _ in range(3):
        record_action()
    return list(AuditEntry.objects.order_by("id"))


def test_a_changed_field_is_caught_at_its_entry(record_action: RecordAction) -> None:
    entries = six_entries(record_action)
    with as_owner_without_triggers() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET reason = 'nothing to see' WHERE id = %s", [entries[2].pk]
        )
    report = audit_chain_verify()
    assert report.broken_entry_id == entries[2].pk
    assert "content does not match" in report.problem


def test_a_deleted_middle_entry_is_caught_at_the_entry_after_it(
    record_action: RecordAction,
) -> None:
    entries = six_entries(record_action)
    with as_owner_without_triggers() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [entries[3].pk])
    report = audit_chain_verify()
    assert report.broken_entry_id == entries[4].pk
    assert f"hash of entry #{entries[2].pk}" in report.problem


def test_deleted_tail_entries_are_caught_by_a_checkpoint_naming_the_span(
    record_action: RecordAction,
) -> None:
    entries = six_entries(record_action)
    checkpoint = take_checkpoint()
    with as_owner_without_triggers() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id >= %s", [entries[4].pk])
    assert audit_chain_verify().intact  # the chain alone cannot see a shortened tail
    report = audit_chain_verify(checkpoint=checkpoint)
    assert not report.intact
    assert f"entries after #{entries[3].pk} up to #{entries[5].pk} were removed" in report.problem
    with pytest.raises(CommandError, match="were removed"):
        call_command("audit_verify", checkpoint=checkpoint.to_json())


def test_a_chain_rewritten_without_the_key_is_caught_at_the_first_rewritten_entry(
    record_action: RecordAction,
) -> None:
    entries = six_entries(record_action)
    # Rewrite from entry 2 on: change its reason and recompute every hash after it, once with
    # a guessed key and once in the old unkeyed form; either way the key is missing.
    for forge in (
        lambda text: hmac.new(b"guessed", text.encode(), hashlib.sha256).hexdigest(),
        lambda text: hashlib.sha256(text.encode()).hexdigest(),
    ):
        with transaction.atomic():
            with as_owner_without_triggers() as cursor:
                prev = entries[1].hash
                for n, entry in enumerate(entries[2:]):
                    row = AuditEntry.objects.get(pk=entry.pk)
                    row.prev_hash = prev
                    if n == 0:
                        row.reason = "rewritten"
                    new_hash = forge(prev + chain.canonical_json(row))
                    cursor.execute(
                        f"UPDATE {TABLE} SET reason = %s, prev_hash = %s, hash = %s WHERE id = %s",
                        [row.reason, prev, new_hash, entry.pk],
                    )
                    prev = new_hash
            report = audit_chain_verify()
            assert report.broken_entry_id == entries[2].pk
            assert "rewritten without the key" in report.problem
            transaction.set_rollback(True)


def test_truncate_is_refused_even_to_the_owner_and_caught_when_forced(
    record_action: RecordAction,
) -> None:
    six_entries(record_action)
    checkpoint = take_checkpoint()
    with (
        pytest.raises(DatabaseError, match="append-only: TRUNCATE"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE {TABLE} CASCADE")
    assert AuditEntry.objects.count() == 6
    with as_owner_without_triggers() as cursor:
        cursor.execute(f"TRUNCATE {TABLE} CASCADE")
    report = audit_chain_verify(checkpoint=checkpoint)
    assert "the log is empty" in report.problem and "emptied" in report.problem


def test_an_emptied_log_is_tampered_against_any_checkpoint(
    record_action: RecordAction, capsys
) -> None:
    six_entries(record_action)
    checkpoint = take_checkpoint()
    with as_owner_without_triggers() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
    with pytest.raises(CommandError, match="tampered: the log is empty"):
        call_command("audit_verify", checkpoint=checkpoint.to_json())
    # Without a checkpoint nothing can tell, and the command says so.
    call_command("audit_verify")
    assert "An empty log proves nothing by itself" in capsys.readouterr().out


def test_a_forged_checkpoint_is_not_accepted(record_action: RecordAction) -> None:
    six_entries(record_action)
    real = take_checkpoint()
    forged = Checkpoint(**{**real.__dict__, "count": real.count - 2})
    report = audit_chain_verify(checkpoint=forged)
    assert "checkpoint is not authentic" in report.problem


@pytest.fixture
def app_role() -> Iterator[str]:
    """A role set up as DATABASE_APP_ROLE would be (created in the test's transaction, so it
    disappears with it)."""
    role = f"audit_app_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
    grant_application_role(connection, role)
    yield role


@contextmanager
def acting_as(role: str) -> Iterator[Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}")
        try:
            yield cursor
        finally:
            cursor.execute("RESET ROLE")


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {TABLE} SET reason = 'rewritten'",
        f"DELETE FROM {TABLE}",
        f"TRUNCATE {TABLE} CASCADE",
        f"ALTER TABLE {TABLE} DISABLE TRIGGER audit_entry_append_only",
        f"ALTER TABLE {TABLE} DISABLE TRIGGER audit_entry_no_truncate",
        f"DROP TRIGGER audit_entry_no_truncate ON {TABLE}",
        "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END; $$",
        "SET session_replication_role = replica",
    ],
)
def test_the_application_role_cannot_change_remove_or_unguard_entries(
    record_action: RecordAction, app_role: str, statement: str
) -> None:
    six_entries(record_action)
    with (
        pytest.raises(DatabaseError, match="permission denied|must be owner"),
        acting_as(app_role) as cursor,
        transaction.atomic(),
    ):
        cursor.execute(statement)
    assert AuditEntry.objects.filter(reason="rewritten").count() == 0
    assert audit_chain_verify().count == 6


def test_the_application_role_can_read_and_append(app_role: str) -> None:
    with acting_as(app_role):
        for n in range(3):
            audit_record(
                actor=ALICE,
                action="connectorGroup.update",
                target=Target(type="connectorGroup", id="g1"),
                phase="attempt",
                correlation_id=uuid.uuid4(),
                after={"name": f"Group {n}"},
            )
        report = audit_chain_verify()
    assert report.intact and report.count == 3


def test_the_search_uses_the_trigram_index(record_action: RecordAction) -> None:
    from audit.selectors import AuditFilters, audit_action_list

    six_entries(record_action)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = audit_action_list(filters=AuditFilters(q="EXCH01")).explain()
    assert "audit_search_trgm_idx" in plan

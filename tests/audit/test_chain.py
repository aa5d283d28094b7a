"""Tamper evidence: append-only rows, a hash chain that verifies, and edits that are caught."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.models import Action, AppendOnlyError, AuditEntry, TargetType
from audit.services import Target, audited_graph_write
from audit.verification import audit_chain_verify
from tests.audit.conftest import ALICE, BOB, RecordAction

ROOT = Path(__file__).resolve().parents[2]
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL=postgres://…)"
)
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite-specific")


@pytest.mark.django_db
def test_audit_verify_counts_an_intact_chain(record_action: RecordAction, capsys) -> None:
    for _ in range(3):
        record_action()
    call_command("audit_verify")
    assert "Audit chain intact: 6 entries verified." in capsys.readouterr().out


@pytest.mark.django_db
def test_audit_verify_on_an_empty_log_is_intact(capsys) -> None:
    call_command("audit_verify")
    assert "0 entries verified" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_model_refuses_to_change_or_delete_an_entry(record_action: RecordAction) -> None:
    attempt = record_action()
    attempt.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        attempt.save()
    with pytest.raises(AppendOnlyError):
        attempt.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=attempt.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_update([attempt], ["reason"])
    assert AuditEntry.objects.get(pk=attempt.pk).reason == ""
    assert AuditEntry.objects.count() == 2


@pytest.mark.django_db
def test_the_model_refuses_entries_that_bypass_the_chain(record_action: RecordAction) -> None:
    original = record_action()
    forged = AuditEntry.objects.get(pk=original.pk)
    forged.pk = None
    forged._state.adding = True
    forged.reason = "forged"
    with pytest.raises(AppendOnlyError):
        forged.save()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_create([forged])
    assert AuditEntry.objects.count() == 2


@on_sqlite
@pytest.mark.django_db
def test_a_raw_sql_update_is_caught_by_audit_verify_naming_the_row(
    record_action: RecordAction,
) -> None:
    for _ in range(3):
        record_action()
    victim = AuditEntry.objects.order_by("id")[3]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET after = %s WHERE id = %s",
            ['{"status": "connected"}', victim.pk],
        )
    with pytest.raises(CommandError, match=rf"broken at entry #{victim.pk}: its content"):
        call_command("audit_verify")


@on_sqlite
@pytest.mark.django_db
def test_a_removed_row_is_caught_at_the_row_after_it(record_action: RecordAction) -> None:
    for _ in range(2):
        record_action()
    first_attempt, first_outcome, second_attempt, _ = AuditEntry.objects.order_by("id")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [first_outcome.pk])
    report = audit_chain_verify()
    assert (report.broken_entry_id, report.count) == (second_attempt.pk, 2)
    assert "prev_hash" in report.problem


@on_postgresql
@pytest.mark.django_db
def test_postgresql_refuses_a_raw_update_or_delete(record_action: RecordAction) -> None:
    attempt = record_action()
    for statement in (
        "UPDATE audit_auditentry SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [attempt.pk])
    assert AuditEntry.objects.get(pk=attempt.pk).reason == ""
    assert audit_chain_verify().intact


@dataclass(frozen=True)
class Answer:
    status: int
    request_id: str


def concurrent_writes(threads: int, per_thread: int) -> list[BaseException]:
    """Start `threads` writers together, each making `per_thread` audited writes (an attempt and
    an outcome each) on its own connection; returns what any of them raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(actor_index: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                with audited_graph_write(
                    actor=(ALICE, BOB)[actor_index % 2],
                    action=Action.EXCHANGE_CONNECTOR_SYNC,
                    target=Target(type=TargetType.EXCHANGE_CONNECTOR, id=f"ex-{actor_index}"),
                    after={"syncType": "deltaSync", "n": n},
                ) as write:
                    write.report(Answer(status=204, request_id=f"{actor_index}-{n}"))
        except BaseException as exc:  # noqa: BLE001 - reported to the test's thread
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_on_postgresql_keep_one_linear_chain() -> None:
    errors = concurrent_writes(threads=8, per_thread=50)
    assert errors == []
    assert AuditEntry.objects.count() == 800
    assert AuditEntry.objects.filter(outcome="succeeded").count() == 400
    report = audit_chain_verify()
    assert report.intact, report
    assert report.count == 800


def sqlite_file_manage(data_dir: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`manage.py` in its own process on a fresh SQLite file, as a deployment runs it (the
    suite's in-memory test database cannot share its write lock between threads)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update({"DEBUG": "1", "DATA_DIR": str(data_dir)})

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    migrated = manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    return manage


def test_eight_concurrent_writers_on_a_sqlite_file_keep_one_linear_chain(tmp_path: Path) -> None:
    manage = sqlite_file_manage(tmp_path)
    # Fewer writes than on PostgreSQL: every SQLite commit is an fsync of the file.
    script = (
        "from tests.audit.test_chain import concurrent_writes\n"
        "errors = concurrent_writes(threads=8, per_thread=25)\n"
        "print('errors:', errors)"
    )
    written = manage("shell", "-c", script)
    assert "errors: []" in written.stdout, written.stdout + written.stderr
    verified = manage("audit_verify")
    assert verified.returncode == 0, verified.stderr
    assert "400 entries verified" in verified.stdout


def test_audit_verify_exits_non_zero_naming_the_tampered_row(tmp_path: Path) -> None:
    """The command as an operator runs it: a real process on a real SQLite file."""
    manage = sqlite_file_manage(tmp_path)
    script = (
        "import uuid; from audit.services import Target, audit_record; "
        "from audit.models import Phase; from tests.audit.conftest import ALICE\n"
        "for n in range(4): audit_record(actor=ALICE, action='connectorGroup.update', "
        "target=Target(type='connectorGroup', id='g1'), phase=Phase.ATTEMPT, "
        "correlation_id=uuid.uuid4(), after={'name': f'Group {n}'})"
    )
    assert manage("shell", "-c", script).returncode == 0
    intact = manage("audit_verify")
    assert intact.returncode == 0
    assert "4 entries verified" in intact.stdout

    with sqlite3.connect(tmp_path / "dashboard.sqlite3") as db:
        db.execute("UPDATE audit_auditentry SET actor_upn = 'mallory@contoso.example' WHERE id = 3")
    broken = manage("audit_verify")
    assert broken.returncode != 0
    assert "broken at entry #3" in broken.stderr

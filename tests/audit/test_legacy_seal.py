"""Entries written before the chain was keyed are brought into it, keeping their proof."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from pathlib import Path
from types import SimpleNamespace

from audit import chain
from tests.audit.test_chain import sqlite_file_manage

COLUMNS = chain.LEGACY_FIELDS + ("hash",)


def legacy_rows(count: int, *, reason: str = "", first_prev: str = chain.GENESIS_HASH) -> list:
    rows, prev = [], first_prev
    for n in range(count):
        row = SimpleNamespace(
            created_at=dt.datetime(2026, 3, 1, 12, n, tzinfo=dt.UTC),
            correlation_id=uuid.UUID(int=n + 1),
            phase="attempt",
            attempt_id=None,
            actor_oid="oid-1",
            actor_upn="alice@contoso.example",
            actor_name="Alice",
            tenant_id="tenant",
            action="connectorGroup.update",
            target_type="connectorGroup",
            target_id=f"g{n}",
            target_name="",
            before={},
            after={"name": f"Group {n}"},
            reason=reason if n == 1 else "",
            outcome="",
            graph_status=None,
            graph_code="",
            graph_request_id="",
            error_message="",
            client_ip="",
            user_agent="",
            channel="web",
            prev_hash=prev,
            key_id=chain.LEGACY_KEY_ID,
        )
        row.hash = chain.legacy_hash(row)
        prev = row.hash
        rows.append(row)
    return rows


def sql_values(row: SimpleNamespace) -> list:
    values = []
    for name in COLUMNS:
        value = getattr(row, name)
        if isinstance(value, dt.datetime):
            value = value.strftime("%Y-%m-%d %H:%M:%S.%f")
        elif isinstance(value, uuid.UUID):
            value = value.hex
        elif isinstance(value, dict):
            value = json.dumps(value)
        values.append(value)
    return values


def test_legacy_entries_are_sealed_into_the_keyed_chain(tmp_path: Path) -> None:
    manage = sqlite_file_manage(tmp_path)
    assert manage("migrate", "audit", "0002").returncode == 0
    database = tmp_path / "dashboard.sqlite3"
    with sqlite3.connect(database) as db:
        placeholders = ", ".join("?" for _ in COLUMNS)
        db.executemany(
            f"INSERT INTO audit_auditentry ({', '.join(COLUMNS)}) VALUES ({placeholders})",
            [sql_values(row) for row in legacy_rows(4)],
        )
    migrated = manage("migrate")
    assert migrated.returncode == 0, migrated.stderr
    verified = manage("audit_verify")
    assert verified.returncode == 0, verified.stderr
    assert "5 entries verified" in verified.stdout
    assert "Keys: legacy (unkeyed) 4, dev 1." in verified.stdout
    with sqlite3.connect(database) as db:
        seal = db.execute("SELECT action, after FROM audit_auditentry WHERE id = 5").fetchone()
    assert seal[0] == "auditLog.keyed" and '"legacyIntact": true' in seal[1]

    # Rewriting a legacy entry and recomputing the whole unkeyed chain no longer works: the
    # seal's HMAC holds the old head.
    forged = legacy_rows(4, reason="rewritten")
    with sqlite3.connect(database) as db:
        for n, row in enumerate(forged, start=1):
            db.execute(
                "UPDATE audit_auditentry SET reason = ?, prev_hash = ?, hash = ? WHERE id = ?",
                [row.reason, row.prev_hash, row.hash, n],
            )
    broken = manage("audit_verify")
    assert broken.returncode != 0
    assert "broken at entry #5" in broken.stderr and "hash of entry #4" in broken.stderr

"""Transactional tests end with Django's flush, a TRUNCATE of every table, which the audit
log's statement-level trigger (audit.0004) refuses, as it should for everyone else. The test
database's owner lifts that one trigger for the length of the flush, inside its transaction."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql.operations import DatabaseOperations

TABLE = "audit_auditentry"
TRIGGER = "audit_entry_no_truncate"


def allow_test_flush_past_the_truncate_trigger() -> None:
    sql_flush = DatabaseOperations.sql_flush
    if getattr(sql_flush, "lifts_audit_trigger", False):
        return

    def flush_sql(self: DatabaseOperations, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        statements = sql_flush(self, style, tables, **kwargs)
        if TABLE not in tables or not statements:
            return statements
        return [
            f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}",
            *statements,
            f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}",
        ]

    flush_sql.lifts_audit_trigger = True  # type: ignore[attr-defined]
    DatabaseOperations.sql_flush = flush_sql  # type: ignore[method-assign]

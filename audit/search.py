"""The text the viewer's free-text search (`?q=`) looks in: one expression over a row.

The same expression is indexed on PostgreSQL (a trigram GIN index on its upper case, migration
audit.0004), so `icontains` on it is answered from the index; SQLite scans it with LIKE. The
correlation id is not in the text (its stored form differs between databases): a word that is a
whole UUID matches it exactly instead.
"""

from __future__ import annotations

from django.db.models import F, Func, TextField, Value

SEARCHED_FIELDS = (
    "actor_upn",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "target_name",
    "reason",
    "graph_request_id",
    "graph_code",
    "graph_operation_id",
    "graph_activity_id",
    "error_message",
)


class SearchText(Func):
    """`col || '\n' || col …`: plain concatenation (the columns are NOT NULL), immutable, so
    PostgreSQL can index it."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = TextField()

    def __init__(self) -> None:
        parts: list[F | Value] = []
        for name in SEARCHED_FIELDS:
            if parts:
                parts.append(Value("\n"))
            parts.append(F(name))
        super().__init__(*parts)

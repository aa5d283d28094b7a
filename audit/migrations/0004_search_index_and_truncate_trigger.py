"""PostgreSQL only: the search's trigram index, and a statement-level trigger refusing TRUNCATE.

The row-level trigger of audit.0002 never sees TRUNCATE (it removes rows without visiting
them); a BEFORE TRUNCATE ... FOR EACH STATEMENT trigger does, whoever sends it.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from audit.search import SEARCHED_FIELDS

SEARCH_INDEX = "audit_search_trgm_idx"

NO_TRUNCATE = """
CREATE TRIGGER audit_entry_no_truncate
    BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();
"""


# The expression `audit.search.SearchText` compiles to, upper-cased as `icontains` compares it.
SEARCH_EXPRESSION = "UPPER((" + " || E'\\n' || ".join(f'"{name}"' for name in SEARCHED_FIELDS) + ")::text)"
CREATE_SEARCH_INDEX = (
    f"CREATE INDEX {SEARCH_INDEX} ON audit_auditentry USING gin (({SEARCH_EXPRESSION}) gin_trgm_ops)"
)


def install(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension: the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    schema_editor.execute(CREATE_SEARCH_INDEX, params=None)
    schema_editor.execute(NO_TRUNCATE, params=None)


def remove(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry", params=None
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}", params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_keyed_chain_and_indexes")]

    operations = [
        migrations.RunPython(install, remove, elidable=False),
    ]

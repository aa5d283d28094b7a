"""The two-role PostgreSQL set-up: an owner runs migrations, the application role may only
read and append to the audit log.

With DATABASE_APP_ROLE set, every `migrate` (run as the owner) ends by granting that role what
the application needs: SELECT/INSERT/UPDATE/DELETE on the other tables, SELECT and INSERT only
on the audit table, and the sequences. Not being the owner, the role cannot ALTER the table
(so not disable or drop its triggers), nor replace the trigger function.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from audit.models import AuditEntry


def grant_application_role(connection: BaseDatabaseWrapper, role: str) -> None:
    """Give `role` the application's rights on every table of the current schema."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    audit_table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quote(role)}")
        for table in connection.introspection.table_names(cursor):
            if table == audit_table:
                cursor.execute(
                    f"REVOKE ALL ON {quote(table)} FROM {quote(role)};"
                    f"GRANT SELECT, INSERT ON {quote(table)} TO {quote(role)}"
                )
            else:
                cursor.execute(
                    f"GRANT SELECT, INSERT, UPDATE, DELETE ON {quote(table)} TO {quote(role)}"
                )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quote(role)}")


def grant_after_migrate(using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver: keep DATABASE_APP_ROLE's grants in step with the tables."""
    if settings.DATABASE_APP_ROLE:
        grant_application_role(connections[using], settings.DATABASE_APP_ROLE)

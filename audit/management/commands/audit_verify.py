"""`manage.py audit_verify`: walk the audit hash chain; exit non-zero at the first bad entry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Check the audit log's hash chain: every entry unchanged, none removed or inserted."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify()
        if not report.intact:
            # CommandError prints to stderr and exits with status 1.
            raise CommandError(
                f"Audit chain broken at entry #{report.broken_entry_id}: {report.problem}. "
                f"{report.count - 1} entries before it verified."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {report.count} entries verified.")
        )

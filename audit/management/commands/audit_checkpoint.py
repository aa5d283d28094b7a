"""`manage.py audit_checkpoint`: anchor the chain's head outside the database.

Writes one structured log line (logger `audit.checkpoint`) and, with
AUDIT_CHECKPOINT_WEBHOOK_URL, POSTs it there. Run it from cron (or a beat schedule calling
`audit.checkpoints.emit_checkpoint`); keep the lines: `audit_verify --checkpoint` reads them.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.checkpoints import CheckpointError, emit_checkpoint


class Command(BaseCommand):
    help = "Emit an audit checkpoint (last id, its hash, count, time, HMAC): log line + webhook."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            checkpoint = emit_checkpoint()
        except CheckpointError as exc:
            raise CommandError(str(exc)) from exc
        # Also on stdout, so `audit_checkpoint >> checkpoints.jsonl` keeps a copy.
        self.stdout.write(checkpoint.to_json())

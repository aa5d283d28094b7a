"""`manage.py audit_verify [--checkpoint …]`: walk the audit chain; exit 1 at the first fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoints import Checkpoint, CheckpointError
from audit.verification import ChainReport, audit_chain_verify


def _read_checkpoint(value: str) -> Checkpoint:
    """The checkpoint's JSON (or its log line), or the path of a file holding it."""
    text = value
    if "{" not in value:
        try:
            text = Path(value).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read the checkpoint file {value}: {exc}") from exc
    try:
        return Checkpoint.from_text(text)
    except CheckpointError as exc:
        raise CommandError(str(exc)) from exc


def _spans(report: ChainReport) -> str:
    return ", ".join(
        f"{key_id or 'legacy (unkeyed)'} {count}" for key_id, count in report.spans.items()
    )


class Command(BaseCommand):
    help = (
        "Check the audit log's keyed hash chain: every entry unchanged, none removed or "
        "inserted; with --checkpoint, also that nothing up to that checkpoint is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint",
            help="A checkpoint from `audit_checkpoint` (its JSON, its log line, or a file "
            "holding either, last line wins).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = _read_checkpoint(options["checkpoint"]) if options["checkpoint"] else None
        report = audit_chain_verify(checkpoint=checkpoint)
        if not report.intact:
            # CommandError prints to stderr and exits with status 1.
            where = (
                f"broken at entry #{report.broken_entry_id}"
                if report.broken_entry_id
                else "tampered"
            )
            verified = max(report.count - (1 if report.broken_entry_id else 0), 0)
            raise CommandError(
                f"Audit chain {where}: {report.problem}. {verified} entries before it verified."
            )
        anchored = (
            f" Everything up to checkpoint #{checkpoint.last_id} ({checkpoint.count} entries) "
            "is present."
            if checkpoint
            else ""
        )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {report.count} entries verified.") + anchored
        )
        if report.spans:
            self.stdout.write(f"Keys: {_spans(report)}.")
        self.stdout.write(f"Read in {report.seconds:.2f} s: {report.per_second:,.0f} entries/s.")
        if report.count == 0 and checkpoint is None:
            self.stdout.write(
                "An empty log proves nothing by itself: verify against a checkpoint "
                "(--checkpoint) to show nothing was removed."
            )

"""`manage.py watch_reencrypt`: re-encrypt the watch's credentials under the first key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from watch import credentials, crypto


class Command(BaseCommand):
    help = (
        "Re-encrypt the watch's stored credentials under the first WATCH_ENCRYPTION_KEYS key, "
        "so the older keys can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            changed = credentials.reencrypt_all()
        except crypto.CredentialKeyError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Re-encrypted {changed} credential(s) under the first key.")

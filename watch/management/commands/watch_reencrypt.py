"""`manage.py watch_reencrypt`: re-encrypt the watch's credentials and the notification
channels' secrets under the first key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from watch import credentials, crypto
from watch.notifications import channels


class Command(BaseCommand):
    help = (
        "Re-encrypt the watch's stored credentials and the notification channels' secrets "
        "under the first WATCH_ENCRYPTION_KEYS key, so the older keys can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            changed = credentials.reencrypt_all()
            channels_changed = channels.reencrypt_all()
        except crypto.CredentialKeyError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Re-encrypted {changed} credential(s) under the first key.")
        self.stdout.write(
            f"Re-encrypted {channels_changed} notification channel(s) under the first key."
        )

"""The audit app: entries, the recording service, the viewer, the export and the chain check."""

from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import checks  # noqa: F401 - registers the deploy check
        from audit.privileges import grant_after_migrate

        # post_migrate is sent per app once the whole plan has run, so every table exists:
        # listening for this app's signal alone grants once per migrate.
        post_migrate.connect(
            grant_after_migrate, sender=self, dispatch_uid="audit.grant_after_migrate"
        )

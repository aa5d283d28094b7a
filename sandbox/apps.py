"""The sandbox tenant: a local stand-in for Entra ID sign-in and the Graph beta endpoints."""

from __future__ import annotations

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "sandbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sandbox import checks  # noqa: F401  (registers the deploy check)

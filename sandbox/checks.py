"""`manage.py check --deploy` fails while sandbox mode is on: it is no way to run production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security, deploy=True)
def sandbox_mode_is_not_for_deployment(
    app_configs: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    if not getattr(settings, "SANDBOX_MODE", False):
        return []
    return [
        Error(
            "Sandbox mode is on: the built-in sandbox tenant stands in for Entra ID and Graph, "
            "and anyone may sign in as one of its demo users.",
            hint=(
                "Set ENTRA_CLIENT_ID, ENTRA_TENANT_ID and ENTRA_CLIENT_SECRET for a real tenant. "
                "Sandbox mode (SANDBOX_MODE=1, or DEBUG=1) is for development, demos and tests."
            ),
            id="sandbox.E001",
        )
    ]

"""System checks: `check --deploy` refuses the development chain key."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

MIN_KEY_LENGTH = 32


@register("audit", deploy=True)
def audit_chain_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.AUDIT_CHAIN_KEY_IS_DEVELOPMENT:
        return [
            Error(
                "AUDIT_CHAIN_KEY is not set: the audit chain is signed with the development "
                "key, which anyone can read in the source.",
                hint="Set AUDIT_CHAIN_KEY to 32+ random characters, kept outside the database.",
                id="audit.E001",
            )
        ]
    if len(settings.AUDIT_CHAIN_KEY) < MIN_KEY_LENGTH:
        return [
            Warning(
                f"AUDIT_CHAIN_KEY is shorter than {MIN_KEY_LENGTH} characters.",
                hint="Use a long random key, e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`.",
                id="audit.W001",
            )
        ]
    return []

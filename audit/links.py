"""Links into the audit log that other pages build (an object's history)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse


def audit_history_url(*, target_type: str, target_id: str) -> str:
    """The audit log filtered to one object: `/audit/?target_type=…&target_id=…`.

    `target_type` is a `audit.models.TargetType` value (exchangeConnector, appProxyConnector,
    connectorGroup); `target_id` is the Graph id. Every connector page links here for
    "history of this object"; in templates: `{% load audit_tags %}{% audit_history_url type id %}`.
    """
    query = urlencode({"target_type": str(target_type), "target_id": target_id})
    return f"{reverse('audit:list')}?{query}"

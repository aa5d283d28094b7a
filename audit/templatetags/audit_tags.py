"""Template helpers for the audit log: value display, change summaries, badges, history links."""

from __future__ import annotations

import json
import re
from typing import Any

from django import template

from audit.links import audit_history_url as build_history_url
from audit.models import AuditEntry, Outcome

register = template.Library()

SUMMARY_FIELDS = 3
BADGE_CLASSES = {
    Outcome.SUCCEEDED: "badge-ok",
    Outcome.FAILED: "badge-bad",
    Outcome.UNKNOWN: "badge-warn",
}


@register.simple_tag
def audit_history_url(target_type: str, target_id: str) -> str:
    return build_history_url(target_type=target_type, target_id=target_id)


# Graph's field names an admin reads differently from a plain split of the camelCase.
FIELD_LABELS = {"memberOf": "Group", "smtp": "SMTP"}


@register.filter
def audit_field(name: str) -> str:
    """A Graph field name in words: `exchangeOrganization` → "Exchange organization"."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).split()
    text = " ".join(FIELD_LABELS.get(word.lower(), word.lower()) for word in words)
    return text[:1].upper() + text[1:]


@register.filter
def audit_value(value: Any) -> str:
    """A before/after value as an admin reads it: strings bare, absent as an em dash, an object
    (a group) by its name, a list by its items' names."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and (value.get("name") or value.get("displayName")):
        return str(value.get("name") or value.get("displayName"))
    if isinstance(value, list):
        return ", ".join(audit_value(item) for item in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@register.filter
def change_summary(entry: AuditEntry) -> str:
    """`status: connected → disconnected; …` for the first few fields, then how many more."""
    before, after = entry.before or {}, entry.after or {}
    names = entry.changed_fields
    parts = []
    for name in names[:SUMMARY_FIELDS]:
        if name in before and name in after:
            parts.append(
                f"{audit_field(name)}: {audit_value(before[name])} → {audit_value(after[name])}"
            )
        elif name in after:
            parts.append(f"{audit_field(name)}: {audit_value(after[name])}")
        else:
            parts.append(f"{audit_field(name)}: {audit_value(before[name])} (removed)")
    if len(names) > SUMMARY_FIELDS:
        parts.append(f"+{len(names) - SUMMARY_FIELDS} more")
    return "; ".join(parts)


@register.filter
def outcome_badge(outcome: str) -> str:
    return BADGE_CLASSES.get(outcome, "badge-warn")


@register.filter
def outcome_label(outcome: str) -> str:
    return Outcome(outcome).label if outcome in Outcome.values else outcome

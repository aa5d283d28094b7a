"""Drift in templates: a changed field's name for people, and a value with its label."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from kernel.tenancy import tenant_path
from watch.drift import FIELD_LABELS, kind_label

register = template.Library()


@register.filter
def drift_field(name: str) -> str:
    return FIELD_LABELS.get(name, name)


register.filter("drift_kind", kind_label)


@register.simple_tag
def drift_value(change: Mapping[str, Any], side: str) -> str:
    """`before` or `after` as people read it: a group's name beside its id, "—" for empty."""
    value = str(change.get(side) or "")
    label = str(change.get(f"{side}_label") or "")
    if label and value:
        return f"{label} ({value})"
    return value or "—"


@register.simple_tag
def drift_url(tenant_id: str, rest: str = "") -> str:
    """A tenant's drift page (or one of its actions) from a page outside any tenant, such as
    the incident page."""
    return tenant_path(tenant_id, f"watch/drift/{rest}")

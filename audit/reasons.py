"""The one change-reason rule, for every form and API body that changes something.

At most `REASON_MAX_LENGTH` characters; required when `AUDIT_REQUIRE_REASON` is on. The audit log
keeps the reason with the change.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

REASON_MAX_LENGTH = 500
REASON_REQUIRED = "This field is required: say why you make this change (the audit log keeps it)."


def reason_missing(value: str) -> bool:
    return bool(settings.AUDIT_REQUIRE_REASON) and not value.strip()


class ReasonField(forms.CharField):
    """The reason input of a page's form (its length checked here, its presence by the form)."""

    def __init__(self, *, label: str = "Reason for the change", **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        super().__init__(label=label, max_length=REASON_MAX_LENGTH, required=False, **kwargs)


class ReasonForm(forms.Form):
    """A change that asks for nothing but its reason (a delete); the base of every other form of a
    change, so one `clean_reason` holds the rule."""

    reason = ReasonField()

    def clean_reason(self) -> str:
        value = self.cleaned_data.get("reason", "")
        if reason_missing(value):
            raise forms.ValidationError(REASON_REQUIRED, code="reason_required")
        return value


@extend_schema_serializer(component_name="ChangeReason")
class ChangeReasonSerializer(serializers.Serializer):
    """An API body's reason: the same rule as the pages'."""

    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=REASON_MAX_LENGTH, default=""
    )

    def validate_reason(self, value: str) -> str:
        if reason_missing(value):
            raise serializers.ValidationError(REASON_REQUIRED)
        return value

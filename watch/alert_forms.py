"""The alerts pages' input: the incident list's filters, snoozing, and a rule's override."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from tenants.models import ManagedTenant
from watch.alert_rules import CONSECUTIVE_MAX, RULE_CHOICES
from watch.models import Severity

LIST_STATES = [
    ("", "Open"),
    ("unacknowledged", "Open, not acknowledged"),
    ("acknowledged", "Acknowledged"),
    ("snoozed", "Snoozed"),
    ("resolved", "Resolved"),
    ("all", "All"),
]
LIST_SORTS = ("opened", "severity", "tenant", "rule", "object", "resolved")
SNOOZE_MAX = timedelta(days=30)


def _tenant_choices() -> list[tuple[str, str]]:
    return [("", "Every tenant")] + [
        (tenant.tenant_id, tenant.label)
        for tenant in ManagedTenant.objects.order_by("display_name")
    ]


class IncidentFilterForm(forms.Form):
    tenant = forms.ChoiceField(label="Tenant", required=False)
    state = forms.ChoiceField(label="State", required=False, choices=LIST_STATES)
    severity = forms.ChoiceField(
        label="Severity", required=False, choices=[("", "Any"), *Severity.choices]
    )
    rule = forms.ChoiceField(label="Rule", required=False, choices=[("", "Any"), *RULE_CHOICES])
    sort = forms.ChoiceField(
        required=False,
        choices=[(key, key) for name in LIST_SORTS for key in (name, f"-{name}")],
        widget=forms.HiddenInput,
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    format = forms.ChoiceField(
        required=False, choices=[("", "Page"), ("csv", "CSV")], widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tenant"].choices = _tenant_choices()  # type: ignore[attr-defined]

    def filters(self) -> dict[str, str]:
        data = self.cleaned_data
        return {name: data.get(name) or "" for name in ("tenant", "state", "severity", "rule")}


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label="Note", required=False, max_length=500)


class SnoozeForm(forms.Form):
    until = forms.DateTimeField(
        label="Snooze until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=(
            "UTC, like every time here. Until then it leaves the overview's count; it still "
            "resolves by itself."
        ),
    )
    note = forms.CharField(label="Note", required=False, max_length=500)

    def clean_until(self) -> datetime:
        until: datetime = self.cleaned_data["until"]
        now = timezone.now()
        if until <= now:
            raise forms.ValidationError("Pick a time in the future.")
        if until > now + SNOOZE_MAX:
            raise forms.ValidationError("Snooze for at most 30 days.")
        return until


INHERIT = ""
ENABLED_CHOICES = [(INHERIT, "As the wider setting"), ("on", "On"), ("off", "Off")]


class RuleSettingForm(forms.Form):
    """One rule's override for every tenant (tenant blank) or one. Blank fields inherit."""

    rule = forms.ChoiceField(label="Rule", choices=RULE_CHOICES)
    tenant = forms.ChoiceField(label="Applies to", required=False)
    enabled = forms.ChoiceField(label="Enabled", required=False, choices=ENABLED_CHOICES)
    consecutive = forms.IntegerField(
        label="Consecutive observations",
        required=False,
        min_value=1,
        max_value=CONSECUTIVE_MAX,
        help_text="Bad sweeps in a row before an incident opens (blank: the wider setting).",
    )
    severity = forms.ChoiceField(
        label="Severity",
        required=False,
        choices=[("", "The rule's own"), *Severity.choices],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = _tenant_choices()
        choices[0] = ("", "Every tenant")
        self.fields["tenant"].choices = choices  # type: ignore[attr-defined]

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "rule": data["rule"],
            "tenant_id": data.get("tenant") or "",
            "enabled": {"on": True, "off": False}.get(data.get("enabled") or ""),
            "consecutive": data.get("consecutive"),
            "severity": data.get("severity") or "",
        }

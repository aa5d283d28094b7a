"""The audit viewer's filter form: the query string, validated, as `AuditFilters`."""

from __future__ import annotations

from typing import Any

from django import forms

from audit.models import Outcome
from audit.selectors import DEFAULT_SORT, SORTS, AuditFilters

SORT_CHOICES = [(key, key) for name in SORTS for key in (name, f"-{name}")]
FORMAT_CHOICES = [("", "Page"), ("csv", "CSV")]


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    actor = forms.CharField(
        label="Actor",
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"list": "audit-actors", "placeholder": "UPN"}),
    )
    action = forms.CharField(
        label="Action",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"list": "audit-actions"}),
    )
    target_type = forms.CharField(
        label="Target type",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"list": "audit-target-types"}),
    )
    target_id = forms.CharField(label="Target id", required=False, max_length=255)
    outcome = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "Any outcome"), *Outcome.choices]
    )
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, id, reason…"}),
    )
    sort = forms.ChoiceField(
        label="Sort order", required=False, choices=SORT_CHOICES, widget=forms.HiddenInput
    )
    format = forms.ChoiceField(
        label="Format", required=False, choices=FORMAT_CHOICES, widget=forms.HiddenInput
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            actor=data.get("actor", "").strip(),
            action=data.get("action", "").strip(),
            target_type=data.get("target_type", "").strip(),
            target_id=data.get("target_id", "").strip(),
            outcome=data.get("outcome", ""),
            q=data.get("q", "").strip(),
            sort=data.get("sort") or DEFAULT_SORT,
        )

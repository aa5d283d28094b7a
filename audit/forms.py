"""The audit viewer's filter form: the query string, validated, as `AuditFilters`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpRequest, QueryDict

from audit.models import Action, Outcome, TargetType
from audit.selectors import DEFAULT_SORT, SORTS, AuditFilters, IntuneFilters
from kernel.query_fields import date_field, page_field
from kernel.tenancy import request_tenant

SORT_CHOICES = [(key, key) for name in SORTS for key in (name, f"-{name}")]
FORMAT_CHOICES = [("", "Page"), ("csv", "CSV")]


class AuditFilterForm(forms.Form):
    date_from = date_field("From")
    date_to = date_field("To")
    actor = forms.CharField(
        label="Actor",
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"list": "audit-actors", "placeholder": "UPN"}),
    )
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any action"), *Action.choices]
    )
    target_type = forms.ChoiceField(
        label="Target type",
        required=False,
        choices=[("", "Any target type"), *TargetType.choices],
    )
    target_id = forms.CharField(label="Target id", required=False, max_length=255)
    tenant = forms.CharField(
        label="Tenant",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": "Tenant id"}),
    )
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
            tenant=data.get("tenant", "").strip(),
        )


def audit_filter_data(request: HttpRequest) -> QueryDict:
    """The audit log's filters as asked for, within the request's tenant when its path names
    one (`/t/<tenant>/audit/`, `/api/v1/tenants/<tenant>/audit/`): that tenant's entries only."""
    data = request.GET.copy()
    if tenant := request_tenant(request):
        data["tenant"] = tenant.id
    return data


def path_tenant(request: HttpRequest) -> str:
    """The tenant the request's path names ("" outside any tenant)."""
    tenant = request_tenant(request)
    return tenant.id if tenant else ""


class IntuneFilterForm(forms.Form):
    """Filters for Intune's audit events; the dropdowns offer what Graph says exists."""

    date_from = date_field("From")
    date_to = date_field("To")
    category = forms.ChoiceField(label="Category", required=False)
    activity_type = forms.ChoiceField(label="Activity type", required=False)
    # Graph's nextLink for the following page, carried in the URL as Graph gave it.
    next = forms.CharField(label="Page link", required=False, widget=forms.HiddenInput)
    page = page_field(widget=forms.HiddenInput)

    def __init__(
        self,
        data: Any,
        *,
        categories: list[str],
        activity_types: list[str],
        next_link_allowed: Callable[[str], bool],
    ) -> None:
        super().__init__(data)
        self.fields["category"].choices = [("", "Any category")] + [(c, c) for c in categories]
        # Graph lists activity types per category: without one there is nothing to offer yet.
        empty = "Any activity type" if activity_types else "Choose a category first"
        self.fields["activity_type"].choices = [("", empty)] + [(a, a) for a in activity_types]
        self.next_link_allowed = next_link_allowed

    def clean_next(self) -> str:
        link = self.cleaned_data.get("next", "")
        if link and not self.next_link_allowed(link):
            raise forms.ValidationError("This page link does not lead to Intune's audit events.")
        return link

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> IntuneFilters:
        data = self.cleaned_data
        return IntuneFilters(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            category=data.get("category", ""),
            activity_type=data.get("activity_type", ""),
        )

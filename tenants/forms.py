"""The tenants app's input: a tenant added by hand, the switcher, the health list's filters."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from tenants.selectors import HEALTH_SORTS

DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class TenantAddForm(forms.Form):
    tenant = forms.CharField(
        label="Tenant id or domain",
        max_length=253,
        widget=forms.TextInput(attrs={"placeholder": "contoso.onmicrosoft.com or a tenant id"}),
    )

    def clean_tenant(self) -> str:
        value = self.cleaned_data["tenant"].strip().lower()
        if not (GUID.match(value) or DOMAIN.match(value)):
            raise forms.ValidationError(
                "Enter a tenant id (a GUID) or a domain such as contoso.onmicrosoft.com."
            )
        return value


HEALTH_SORT_CHOICES = [(key, key) for name in HEALTH_SORTS for key in (name, f"-{name}")]


class TenantHealthFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    problems = forms.BooleanField(label="Only tenants with problems", required=False)
    sort = forms.ChoiceField(required=False, choices=HEALTH_SORT_CHOICES, widget=forms.HiddenInput)
    format = forms.ChoiceField(
        required=False, choices=[("", "Page"), ("csv", "CSV")], widget=forms.HiddenInput
    )

    def selector_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "query": data.get("q", ""),
            "problems_only": bool(data.get("problems")),
            "sort": data.get("sort") or "tenant",
        }


class TenantRefreshForm(forms.Form):
    """One step of the progressive refresh: where the previous step ended, the counts so far."""

    after = forms.CharField(required=False, max_length=64)
    done = forms.IntegerField(required=False, min_value=0, max_value=1_000_000)
    failed = forms.IntegerField(required=False, min_value=0, max_value=1_000_000)
    stop = forms.BooleanField(required=False)

    def clean_after(self) -> str:
        value = self.cleaned_data["after"].strip().lower()
        if value and not (GUID.match(value) or DOMAIN.match(value)):
            raise forms.ValidationError("Not a tenant id: start the refresh again.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["done"] = data.get("done") or 0
        data["failed"] = data.get("failed") or 0
        if data["failed"] > data["done"]:
            self.add_error("failed", "More tenants failed than were refreshed.")
        return data

"""Forms for the connector pages: every value checked before anything is sent to Graph."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone

from connectors.editing import ReviewedEditForm
from connectors.enums import (
    ExchangeConnectorStatus,
    ExchangeConnectorType,
    ExchangeSyncType,
    choosable,
)
from connectors.health import Health
from connectors.records import ExchangeConnector, format_graph_datetime

HOST_NAME = RegexValidator(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
    "Enter a host name such as EXCH-MBX01.contoso.local: letters, digits, hyphens and dots.",
)
VERSION = RegexValidator(
    r"^\d{1,9}(?:\.\d{1,9}){0,3}$", "Enter a version such as 15.2.1118.7: numbers and dots."
)
ALIAS = RegexValidator(
    r"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+$",
    "An alias has no spaces: letters, digits and . - _ only, like contoso-intune.",
)
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
]


class ExchangeConnectorForm(forms.Form):
    """The properties of a `deviceManagementExchangeConnector`, named as Graph names them."""

    # Values the connector reports itself: changing them by hand is an override.
    REPORTED_BY_CONNECTOR = ("status", "lastSyncDateTime", "version")

    serverName = forms.CharField(label="Server name", max_length=255, validators=[HOST_NAME])
    connectorServerName = forms.CharField(
        label="Connector host", max_length=255, required=False, validators=[HOST_NAME]
    )
    exchangeConnectorType = forms.ChoiceField(
        label="Type", choices=choosable(ExchangeConnectorType)
    )
    status = forms.ChoiceField(label="Status", choices=choosable(ExchangeConnectorStatus))
    lastSyncDateTime = forms.DateTimeField(
        label="Last sync (UTC)",
        required=False,
        input_formats=DATETIME_INPUT_FORMATS,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"
        ),
    )
    primarySmtpAddress = forms.EmailField(
        label="Primary SMTP address", max_length=254, required=False
    )
    version = forms.CharField(label="Version", max_length=64, required=False, validators=[VERSION])
    exchangeAlias = forms.CharField(
        label="Exchange alias", max_length=64, required=False, validators=[ALIAS]
    )
    exchangeOrganization = forms.CharField(
        label="Exchange organization", max_length=255, required=False
    )

    def clean_lastSyncDateTime(self) -> datetime | None:  # noqa: N802 - Graph's property name
        value = self.cleaned_data.get("lastSyncDateTime")
        if value and value > timezone.now():
            raise forms.ValidationError("A last sync cannot be in the future.")
        return value

    def graph_values(self) -> dict[str, Any]:
        """The cleaned values as Graph takes them."""
        values: dict[str, Any] = {}
        for name in self.fields.keys() & ExchangeConnector.GRAPH_FIELDS.keys():
            value = self.cleaned_data.get(name)
            if isinstance(value, datetime):
                value = format_graph_datetime(value)
            elif value is None and name != "lastSyncDateTime":
                value = ""
            values[name] = value
        return values


def initial_from(connector: ExchangeConnector) -> dict[str, Any]:
    """A connector's values as the form shows them."""
    values: dict[str, Any] = dict(connector.graph_values())
    values["lastSyncDateTime"] = connector.last_sync
    return values


class ExchangeConnectorEditForm(ReviewedEditForm, ExchangeConnectorForm):
    """An edit of an Exchange connector, reviewed before it is sent (connectors.editing)."""

    EDIT_SALT = "connectors.exchange-connector-edit"
    REPORTED_BY_CONNECTOR = ExchangeConnectorForm.REPORTED_BY_CONNECTOR
    ENUM_FIELDS = ("status", "exchangeConnectorType")


class SyncForm(forms.Form):
    sync_type = forms.ChoiceField(choices=ExchangeSyncType.choices)


class ListFilterForm(forms.Form):
    """A list's sort (`-` for descending) and page from the query string; subclasses add filters.

    Subclasses set `SORTS` (the sortable keys) and `DEFAULT_SORT`.
    """

    SORTS: tuple[str, ...] = ()
    DEFAULT_SORT = ""

    sort = forms.ChoiceField(required=False)
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sort"].choices = [
            (f"{direction}{key}", key) for key in self.SORTS for direction in ("", "-")
        ]

    def current_sort(self) -> str:
        return self.cleaned_data.get("sort") or self.DEFAULT_SORT

    def sort_arguments(self) -> dict[str, Any]:
        sort = self.current_sort()
        return {"sort": sort.lstrip("-"), "descending": sort.startswith("-")}


class ExchangeConnectorFilterForm(ListFilterForm):
    """The list's search, filters, sort and page, all from the query string."""

    SORTS = (
        "serverName",
        "connectorServerName",
        "exchangeConnectorType",
        "status",
        "lastSyncDateTime",
        "health",
        "version",
        "primarySmtpAddress",
    )

    q = forms.CharField(label="Search", required=False, max_length=200)
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *ExchangeConnectorStatus.choices],
    )
    type = forms.ChoiceField(
        label="Type", required=False, choices=[("", "Any type"), *ExchangeConnectorType.choices]
    )
    health = forms.ChoiceField(
        label="Health", required=False, choices=[("", "Any health"), *Health.choices]
    )
    DEFAULT_SORT = "serverName"

    def selector_arguments(self) -> dict[str, Any]:
        return {
            "search": self.cleaned_data.get("q", ""),
            "status": self.cleaned_data.get("status", ""),
            "connector_type": self.cleaned_data.get("type", ""),
            "health": self.cleaned_data.get("health", ""),
            **self.sort_arguments(),
        }

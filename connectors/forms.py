"""Forms for the connector pages: every value checked before anything is sent to Graph."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.core.validators import RegexValidator
from django.utils import timezone

from connectors.enums import (
    ExchangeConnectorStatus,
    ExchangeConnectorType,
    ExchangeSyncType,
    choosable,
)
from connectors.health import Health
from connectors.records import ExchangeConnector, format_graph_datetime, same_graph_value

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
EDIT_SALT = "connectors.exchange-connector-edit"


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

    def is_reported_by_connector(self, name: str) -> bool:
        return name in self.REPORTED_BY_CONNECTOR


def initial_from(connector: ExchangeConnector) -> dict[str, Any]:
    """A connector's values as the form shows them."""
    values: dict[str, Any] = dict(connector.graph_values())
    values["lastSyncDateTime"] = connector.last_sync
    return values


class ExchangeConnectorEditForm(ExchangeConnectorForm):
    """An edit: the values Graph had when the form was opened travel signed with the form.

    They tell which fields the admin changed (only those are PATCHed) and whether someone else
    changed the connector in Graph meanwhile.
    """

    original = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Reason for the change",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm_override = forms.BooleanField(
        label="Override the values the connector reports itself",
        required=False,
    )

    def __init__(self, *args: Any, connector_id: str, **kwargs: Any) -> None:
        # Several rows may be open for editing on one page: ids must stay unique.
        kwargs.setdefault("auto_id", f"edit-{connector_id}-%s")
        super().__init__(*args, **kwargs)
        self.connector_id = connector_id
        self.original_values = self._original_values()
        self._keep_unknown_enum_values()

    @staticmethod
    def sign(connector: ExchangeConnector) -> str:
        return signing.dumps(
            {"id": connector.id, "values": connector.graph_values()}, salt=EDIT_SALT
        )

    def _original_values(self) -> dict[str, str]:
        raw = self.data.get("original") if self.is_bound else self.initial.get("original")
        try:
            payload = signing.loads(raw or "", salt=EDIT_SALT)
        except signing.BadSignature:
            return {}
        if payload.get("id") != self.connector_id:
            return {}
        return payload.get("values", {})

    def _keep_unknown_enum_values(self) -> None:
        """A value Graph returned that no dropdown offers stays selectable only as it was."""
        for name in ("status", "exchangeConnectorType"):
            current = self.original_values.get(name, "")
            field = self.fields[name]
            if current and current not in dict(field.choices):
                field.choices = [*field.choices, (current, f"{current} (as Graph reports it)")]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.original_values:
            raise forms.ValidationError(
                "This form does not belong to this connector or has expired. Open the edit "
                "form again.",
                code="bad_original",
            )
        return cleaned

    def changes(self) -> dict[str, tuple[Any, Any]]:
        """Graph property → (value when opened, value now), for the fields that changed."""
        new = self.graph_values()
        changed = {}
        for name, value in new.items():
            old = self.original_values.get(name, "")
            if not same_graph_value(name, old, value):
                changed[name] = (old, value)
        return changed

    def overrides(self) -> list[str]:
        return [name for name in self.changes() if self.is_reported_by_connector(name)]

    def ready_to_save(self) -> bool:
        """At save: a reason where one is required, and an override of reported values confirmed.

        Checked only at the save step, where both fields are on screen. False adds the errors.
        """
        if settings.AUDIT_REQUIRE_REASON and not self.cleaned_data.get("reason", "").strip():
            self.add_error("reason", "This field is required: say why you make this change.")
        if self.overrides() and not self.cleaned_data.get("confirm_override"):
            self.add_error(
                "confirm_override",
                "You are overriding values the connector reports itself ("
                + ", ".join(self.overrides())
                + "). Tick the box to confirm; the connector may report its own values again "
                "at its next sync.",
            )
        return not self.errors


class SyncForm(forms.Form):
    sync_type = forms.ChoiceField(choices=ExchangeSyncType.choices)


class ExchangeConnectorFilterForm(forms.Form):
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
    sort = forms.ChoiceField(
        required=False, choices=[(f"{d}{key}", key) for key in SORTS for d in ("", "-")]
    )
    page = forms.IntegerField(required=False, min_value=1)

    def selector_arguments(self) -> dict[str, Any]:
        sort = self.cleaned_data.get("sort") or "serverName"
        return {
            "search": self.cleaned_data.get("q", ""),
            "status": self.cleaned_data.get("status", ""),
            "connector_type": self.cleaned_data.get("type", ""),
            "health": self.cleaned_data.get("health", ""),
            "sort": sort.lstrip("-"),
            "descending": sort.startswith("-"),
        }

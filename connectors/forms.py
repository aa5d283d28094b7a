"""Forms for the connector pages: every value checked before anything is sent to Graph."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any, ClassVar

from django import forms
from django.core import signing
from django.core.validators import RegexValidator
from django.utils import timezone

from audit.reasons import REASON_REQUIRED, ReasonField, ReasonForm, reason_missing
from connectors.enums import (
    AppProxyConnectorStatus,
    ConnectorGroupRegion,
    ExchangeConnectorStatus,
    ExchangeConnectorType,
    ExchangeSyncType,
    choosable,
    label_for,
)
from connectors.health import Health
from connectors.records import (
    AppProxyConnector,
    ConnectorGroup,
    ExchangeConnector,
    GraphRecord,
    same_graph_value,
)
from graph.datetimes import format_graph_datetime
from kernel.query_fields import page_field

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


class ReviewedEditForm(forms.Form):
    """Mixed in before a form of Graph properties that defines `graph_values()` (the cleaned
    values under Graph's names): `class XEditForm(ReviewedEditForm, XForm)`.

    Facts a record offers through `edit_facts()` (e.g. why a field is locked) travel signed too,
    as `self.facts`, so the form can refuse a forged value without asking Graph again.

    Subclasses set `EDIT_SALT` (one per kind of object), `NOUN` (for messages),
    `REPORTED_BY_CONNECTOR` (fields whose change is an override) and `ENUM_FIELDS` (dropdowns
    that must keep a value Graph returned that they do not offer).
    """

    EDIT_SALT: ClassVar[str]
    NOUN: ClassVar[str] = "connector"
    REPORTED_BY_CONNECTOR: ClassVar[tuple[str, ...]] = ()
    ENUM_FIELDS: ClassVar[tuple[str, ...]] = ()

    original = forms.CharField(widget=forms.HiddenInput)
    reason = ReasonField()
    confirm_override = forms.BooleanField(
        label="Override the values the connector reports itself",
        required=False,
    )

    def __init__(self, *args: Any, object_id: str, **kwargs: Any) -> None:
        # Several rows may be open for editing on one page: ids must stay unique.
        kwargs.setdefault("auto_id", f"edit-{object_id}-%s")
        super().__init__(*args, **kwargs)
        self.object_id = object_id
        self.original_values, self.facts = self._original()
        self._keep_unknown_enum_values()

    @classmethod
    def sign(cls, record: GraphRecord) -> str:
        """The record's values (and its `edit_facts()`, if it has any) for the form to carry."""
        facts = record.edit_facts() if hasattr(record, "edit_facts") else {}
        return signing.dumps(
            {"id": record.id, "values": record.graph_values(), "facts": facts}, salt=cls.EDIT_SALT
        )

    def _original(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(Graph's values when the form was opened, facts the form's checks rely on)."""
        raw = self.data.get("original") if self.is_bound else self.initial.get("original")
        try:
            payload = signing.loads(raw or "", salt=self.EDIT_SALT)
        except signing.BadSignature:
            return {}, {}
        if payload.get("id") != self.object_id:
            return {}, {}
        return payload.get("values", {}), payload.get("facts", {})

    def _keep_unknown_enum_values(self) -> None:
        """A value Graph returned that no dropdown offers stays selectable only as it was."""
        for name in self.ENUM_FIELDS:
            current = self.original_values.get(name) or ""
            field = self.fields[name]
            if current and current not in dict(field.choices):
                field.choices = [*field.choices, (current, f"{current} (as Graph reports it)")]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.original_values:
            raise forms.ValidationError(
                f"This form does not belong to this {self.NOUN} or has expired. Open the edit "
                "form again.",
                code="bad_original",
            )
        return cleaned

    def changes(self) -> dict[str, tuple[Any, Any]]:
        """Graph property → (value when opened, value now), for the fields that changed."""
        changed = {}
        for name, value in self.graph_values().items():  # type: ignore[attr-defined]
            old = self.original_values.get(name, "")
            if not same_graph_value(name, old, value):
                changed[name] = (old, value)
        return changed

    def overrides(self) -> list[str]:
        return [name for name in self.changes() if name in self.REPORTED_BY_CONNECTOR]

    def ready_to_save(self) -> bool:
        """At save: a reason where one is required, and an override of reported values confirmed.

        Checked only at the save step, where both fields are on screen. False adds the errors.
        """
        if reason_missing(self.cleaned_data.get("reason", "")):
            self.add_error("reason", REASON_REQUIRED)
        if self.overrides() and not self.cleaned_data.get("confirm_override"):
            self.add_error(
                "confirm_override",
                "You are overriding values the connector reports itself ("
                + ", ".join(self.overrides())
                + "). Tick the box to confirm; the connector may report its own values again "
                "at its next sync.",
            )
        return not self.errors


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
    """An edit of an Exchange connector, reviewed before it is sent (ReviewedEditForm)."""

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
    page = page_field()

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


# -- Application Proxy ----------------------------------------------------------------------------

# Long enough for any name an admin types, short enough to read in a table and a dropdown.
GROUP_NAME_MAX_LENGTH = 128


class AppProxyConnectorForm(forms.Form):
    """The properties of an App Proxy `connector` that the dashboard lets an admin change."""

    REPORTED_BY_CONNECTOR = ("externalIp", "status")

    machineName = forms.CharField(label="Machine name", max_length=255, validators=[HOST_NAME])
    externalIp = forms.CharField(
        label="External IP",
        max_length=64,
        required=False,
        help_text="An IPv4 or IPv6 address, such as 203.0.113.10 or 2001:db8::10.",
    )
    status = forms.ChoiceField(label="Status", choices=choosable(AppProxyConnectorStatus))

    def clean_externalIp(self) -> str:  # noqa: N802 - Graph's property name
        value = self.cleaned_data.get("externalIp", "").strip()
        if not value:
            return ""
        try:
            return str(ipaddress.ip_address(value))
        except ValueError as exc:
            raise forms.ValidationError(
                "Enter a valid IPv4 or IPv6 address, such as 203.0.113.10 or 2001:db8::10."
            ) from exc

    def graph_values(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data.get(name, "")
            for name in ("machineName", "externalIp", "status")
        }


class AppProxyConnectorEditForm(ReviewedEditForm, AppProxyConnectorForm):
    """An edit of an App Proxy connector, reviewed before it is sent (ReviewedEditForm)."""

    EDIT_SALT = "connectors.app-proxy-connector-edit"
    REPORTED_BY_CONNECTOR = AppProxyConnectorForm.REPORTED_BY_CONNECTOR
    ENUM_FIELDS = ("status",)


def app_proxy_initial(connector: AppProxyConnector) -> dict[str, Any]:
    return dict(connector.graph_values())


class ConnectorGroupForm(forms.Form):
    """A connector group's name and region (never `unknownFutureValue`)."""

    name = forms.CharField(label="Name", max_length=GROUP_NAME_MAX_LENGTH)
    region = forms.ChoiceField(
        label="Region",
        required=False,
        choices=[("", "No region"), *choosable(ConnectorGroupRegion)],
        help_text="Where the group's connectors run, so traffic stays close to them. It can be "
        "changed only while the group has no connectors and no applications.",
    )

    def graph_values(self) -> dict[str, Any]:
        # No region is null in Graph.
        return {
            "name": self.cleaned_data.get("name", ""),
            "region": self.cleaned_data.get("region") or None,
        }


class ConnectorGroupCreateForm(ConnectorGroupForm, ReasonForm):
    """A new group: its name, its region, and the reason for the change."""


def group_initial(row: GraphRecord) -> dict[str, Any]:
    """The edit form's first values: the group's as Graph has them."""
    return dict(row.graph_values())


class ConnectorGroupEditForm(ReviewedEditForm, ConnectorGroupForm):
    """A rename or re-region, reviewed before it is sent; the region is locked on a group with
    connectors or applications (the reason travels signed, as `facts["region_lock"]`)."""

    EDIT_SALT = "connectors.connector-group-edit"
    NOUN = "connector group"
    ENUM_FIELDS = ("region",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if lock := self.facts.get("region_lock"):
            self.fields["region"].help_text = lock
            self.fields["region"].widget.attrs["disabled"] = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        lock = self.facts.get("region_lock")
        if lock and not self.errors and "region" in self.changes():
            self.add_error("region", lock)
        return cleaned


MOVE_SALT = "connectors.app-proxy-connector-move"
# A move dialog left open longer than this is refused: the groups it offers may be stale.
MOVE_OFFER_MAX_AGE = 60 * 60


class ConnectorMoveForm(ReasonForm):
    """Move a connector to one of the applicationProxy groups the dialog offered.

    The offer (the connector, the group it is in, the groups it may go to) travels signed, so a
    forged group id is a field error before anything is sent to Graph.
    """

    group = forms.ChoiceField(
        label="Move to group", error_messages={"required": "Choose the group to move it to."}
    )
    # Asked only once the chosen group turns out to serve another region (see `clean`).
    region_change = forms.BooleanField(required=False, label="Yes, move it to another region")
    offer = forms.CharField(widget=forms.HiddenInput)
    # The list's query string the dialog was opened from, to show that list again afterwards.
    back = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)
    reason = ReasonField(label="Reason for the move")

    def __init__(self, *args: Any, connector_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connector_id = connector_id
        self.offer = self._load_offer()
        current = (self.offer.get("from") or {}).get("id")
        # No group is chosen for the admin: a Move clicked at once asks for one.
        self.fields["group"].choices = [
            ("", "Choose a group…"),
            *(
                (group["id"], f"{group['name']} ({_region_label(group)})")
                for group in self.offer.get("to", [])
                if group["id"] != current
            ),
        ]

    @staticmethod
    def sign_offer(
        connector: AppProxyConnector,
        from_group: ConnectorGroup | None,
        to_groups: list[ConnectorGroup],
        *,
        remaining_active: int | None,
    ) -> str:
        """`remaining_active`: active connectors left in the group it leaves after the move."""
        return signing.dumps(
            {
                "connector": {"id": connector.id, **connector.graph_values()},
                "from": _group_dict(from_group) if from_group else None,
                "to": [_group_dict(group) for group in to_groups],
                "remaining_active": remaining_active,
            },
            salt=MOVE_SALT,
        )

    def _load_offer(self) -> dict[str, Any]:
        raw = self.data.get("offer") if self.is_bound else self.initial.get("offer")
        try:
            offer = signing.loads(raw or "", salt=MOVE_SALT, max_age=MOVE_OFFER_MAX_AGE)
        except signing.BadSignature:
            return {}
        return offer if offer.get("connector", {}).get("id") == self.connector_id else {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.offer:
            raise forms.ValidationError(
                "This form does not belong to this connector or has expired. Open it again.",
                code="bad_offer",
            )
        if cleaned.get("group") and not cleaned.get("region_change") and self.changes_region:
            source, target = self.from_group, self.to_group
            assert source is not None  # changes_region needs a group to leave
            self.add_error(
                "region_change",
                f"{target.display_name} {_serves(target)}; {source.display_name} "
                f"{_serves(source)}. The applications it serves would then reach it through "
                f"another region. Tick to confirm.",
            )
        return cleaned

    @property
    def changes_region(self) -> bool:
        """Whether the chosen group serves another region than the one the connector leaves."""
        source = self.from_group
        chosen = self.cleaned_data.get("group") if hasattr(self, "cleaned_data") else None
        return bool(source and chosen and self.to_group.region != source.region)

    @property
    def connector(self) -> AppProxyConnector:
        return AppProxyConnector.from_graph(self.offer["connector"])

    @property
    def from_group(self) -> ConnectorGroup | None:
        group = self.offer.get("from")
        return ConnectorGroup.from_graph(group) if group else None

    @property
    def to_group(self) -> ConnectorGroup:
        chosen = self.cleaned_data["group"]
        return ConnectorGroup.from_graph(next(g for g in self.offer["to"] if g["id"] == chosen))

    @property
    def remaining_active(self) -> int | None:
        return self.offer.get("remaining_active")


def _serves(group: ConnectorGroup) -> str:
    return f"serves {group.region_label}" if group.region else "has no region set"


def _region_label(group: dict[str, Any]) -> str:
    return (
        label_for(ConnectorGroupRegion, group.get("region")) if group.get("region") else "no region"
    )


def _group_dict(group: ConnectorGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "connectorGroupType": group.connector_group_type,
        "isDefault": group.is_default,
        "region": group.region or None,
    }


class AppProxyConnectorFilterForm(ListFilterForm):
    """The App Proxy list's view (table or by group), search, filters, sort and page."""

    SORTS = ("machineName", "externalIp", "status", "version", "group")
    DEFAULT_SORT = "machineName"

    view = forms.ChoiceField(
        label="View",
        required=False,
        choices=[("", "Table"), ("groups", "By connector group")],
    )
    q = forms.CharField(label="Search", required=False, max_length=200)
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *AppProxyConnectorStatus.choices],
    )
    # Any id: the groups come from Graph, and an unknown one simply matches nothing.
    group = forms.CharField(label="Group", required=False, max_length=64)
    version = forms.CharField(label="Version", required=False, max_length=64)

    def selector_arguments(self) -> dict[str, Any]:
        return {
            "search": self.cleaned_data.get("q", ""),
            "status": self.cleaned_data.get("status", ""),
            "group": self.cleaned_data.get("group", ""),
            "version": self.cleaned_data.get("version", ""),
            **self.sort_arguments(),
        }

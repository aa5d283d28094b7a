"""Typed, read-only records of the connectors Graph returns, parsed leniently.

Graph is the source of truth: these records live for one request and are never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from connectors.enums import (
    AppProxyConnectorStatus,
    ConnectorGroupRegion,
    ConnectorGroupType,
    ExchangeConnectorStatus,
    ExchangeConnectorType,
    label_for,
)
from graph.datetimes import parse_graph_datetime

EXCHANGE_CONNECTOR_ODATA_TYPE = "#microsoft.graph.deviceManagementExchangeConnector"
# A status badge's colour (`badge-<tone>`); statuses not listed are neutral.
STATUS_TONES = {
    ExchangeConnectorStatus.CONNECTED: "ok",
    ExchangeConnectorStatus.CONNECTION_PENDING: "warn",
    ExchangeConnectorStatus.DISCONNECTED: "bad",
}


# A change: Graph property → (value when the form was opened, new value).
Changes = Mapping[str, tuple[Any, Any]]


class _NotChecked:
    def __repr__(self) -> str:
        return "NOT_CHECKED"


# As the "value when opened" of a change: the caller saw no earlier value (an API client that
# sent no `expected`), so that field is not checked for a conflict.
NOT_CHECKED: Any = _NotChecked()


class GraphRecord(Protocol):
    """What an editable record offers: its id, a name for people, its values under Graph's names."""

    @property
    def id(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    def graph_values(self) -> dict[str, Any]: ...


def graph_text(item: dict[str, Any], name: str) -> str:
    """A property as text: "" when Graph sent null or nothing."""
    value = item.get(name)
    return "" if value is None else str(value)


def same_graph_value(name: str, first: Any, second: Any) -> bool:
    """Whether two values of a property are the same (timestamps compared as instants)."""
    if name == "lastSyncDateTime":
        return _instant(first) == _instant(second)
    return ("" if first is None else str(first)) == ("" if second is None else str(second))


def _instant(value: Any) -> datetime | None:
    parsed = parse_graph_datetime(value) if isinstance(value, str) else value
    return parsed.replace(microsecond=0) if isinstance(parsed, datetime) else None


class GraphFields:
    """`GRAPH_FIELDS` maps Graph property names to record attributes, for the properties a user
    sees and changes; `graph_values()` gives them under Graph's names (diffs, audit, CSV)."""

    GRAPH_FIELDS: ClassVar[dict[str, str]] = {}

    def graph_values(self) -> dict[str, str]:
        return {name: getattr(self, attr) for name, attr in self.GRAPH_FIELDS.items()}


@dataclass(frozen=True)
class ExchangeConnector(GraphFields):
    """A `deviceManagementExchangeConnector` as Graph returned it."""

    id: str
    server_name: str
    connector_server_name: str
    status: str
    exchange_connector_type: str
    last_sync: datetime | None
    last_sync_raw: str
    primary_smtp_address: str
    version: str
    exchange_alias: str
    exchange_organization: str

    GRAPH_FIELDS: ClassVar[dict[str, str]] = {
        "serverName": "server_name",
        "connectorServerName": "connector_server_name",
        "status": "status",
        "exchangeConnectorType": "exchange_connector_type",
        "lastSyncDateTime": "last_sync_raw",
        "primarySmtpAddress": "primary_smtp_address",
        "version": "version",
        "exchangeAlias": "exchange_alias",
        "exchangeOrganization": "exchange_organization",
    }

    @classmethod
    def from_graph(cls, item: dict[str, Any]) -> ExchangeConnector:
        def text(name: str) -> str:
            return graph_text(item, name)

        return cls(
            id=text("id"),
            server_name=text("serverName"),
            connector_server_name=text("connectorServerName"),
            status=text("status"),
            exchange_connector_type=text("exchangeConnectorType"),
            last_sync=parse_graph_datetime(item.get("lastSyncDateTime")),
            last_sync_raw=text("lastSyncDateTime"),
            primary_smtp_address=text("primarySmtpAddress"),
            version=text("version"),
            exchange_alias=text("exchangeAlias"),
            exchange_organization=text("exchangeOrganization"),
        )

    @property
    def display_name(self) -> str:
        return self.server_name or self.connector_server_name or self.id

    @property
    def status_label(self) -> str:
        return label_for(ExchangeConnectorStatus, self.status)

    @property
    def status_tone(self) -> str:
        """The status badge's colour: ok, warn, bad, or none for a neutral or unknown status."""
        return STATUS_TONES.get(self.status, "")

    @property
    def type_label(self) -> str:
        return label_for(ExchangeConnectorType, self.exchange_connector_type)


@dataclass(frozen=True)
class AppProxyConnector(GraphFields):
    """An Entra Application Proxy `connector` as Graph returned it."""

    id: str
    machine_name: str
    external_ip: str
    status: str
    version: str

    GRAPH_FIELDS: ClassVar[dict[str, str]] = {
        "machineName": "machine_name",
        "externalIp": "external_ip",
        "status": "status",
        "version": "version",
    }

    @classmethod
    def from_graph(cls, item: dict[str, Any]) -> AppProxyConnector:
        return cls(
            id=graph_text(item, "id"),
            machine_name=graph_text(item, "machineName"),
            external_ip=graph_text(item, "externalIp"),
            status=graph_text(item, "status"),
            version=graph_text(item, "version"),
        )

    @property
    def display_name(self) -> str:
        return self.machine_name or self.id

    @property
    def is_active(self) -> bool:
        return self.status == AppProxyConnectorStatus.ACTIVE

    @property
    def status_label(self) -> str:
        return label_for(AppProxyConnectorStatus, self.status)

    @property
    def status_tone(self) -> str:
        return {"active": "ok", "inactive": "bad"}.get(self.status, "")


@dataclass(frozen=True)
class ConnectorGroup(GraphFields):
    """An Application Proxy `connectorGroup` as Graph returned it (region "" when null)."""

    id: str
    name: str
    connector_group_type: str
    is_default: bool
    region: str

    GRAPH_FIELDS: ClassVar[dict[str, str]] = {"name": "name", "region": "region"}

    @classmethod
    def from_graph(cls, item: dict[str, Any]) -> ConnectorGroup:
        return cls(
            id=graph_text(item, "id"),
            name=graph_text(item, "name"),
            connector_group_type=graph_text(item, "connectorGroupType"),
            is_default=item.get("isDefault") is True,
            region=graph_text(item, "region"),
        )

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def is_application_proxy(self) -> bool:
        """Only these take App Proxy connectors; a type Graph may add later is only shown."""
        return self.connector_group_type == ConnectorGroupType.APPLICATION_PROXY

    @property
    def type_label(self) -> str:
        return label_for(ConnectorGroupType, self.connector_group_type)

    @property
    def region_label(self) -> str:
        return label_for(ConnectorGroupRegion, self.region)

"""Typed, read-only records of the connectors Graph returns, parsed leniently.

Graph is the source of truth: these records live for one request and are never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.enums import ExchangeConnectorStatus, ExchangeConnectorType, label_for

EXCHANGE_CONNECTOR_ODATA_TYPE = "#microsoft.graph.deviceManagementExchangeConnector"
# A status badge's colour (`badge-<tone>`); statuses not listed are neutral.
STATUS_TONES = {
    ExchangeConnectorStatus.CONNECTED: "ok",
    ExchangeConnectorStatus.CONNECTION_PENDING: "warn",
    ExchangeConnectorStatus.DISCONNECTED: "bad",
}


def parse_graph_datetime(value: Any) -> datetime | None:
    """A Graph DateTimeOffset, or None when absent, unreadable or Intune's year-1 "never"."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.year <= 1:
        return None
    return parsed


def format_graph_datetime(value: datetime) -> str:
    """The form Graph accepts: UTC with a Z (a naive value is taken as UTC)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def same_graph_value(name: str, first: Any, second: Any) -> bool:
    """Whether two values of a property are the same (timestamps compared as instants)."""
    if name == "lastSyncDateTime":
        return _instant(first) == _instant(second)
    return ("" if first is None else str(first)) == ("" if second is None else str(second))


def _instant(value: Any) -> datetime | None:
    parsed = parse_graph_datetime(value) if isinstance(value, str) else value
    return parsed.replace(microsecond=0) if isinstance(parsed, datetime) else None


@dataclass(frozen=True)
class ExchangeConnector:
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

    # Graph property name → record attribute, for the fields a user can see and change.
    GRAPH_FIELDS = {
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
            value = item.get(name)
            return "" if value is None else str(value)

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

    def graph_values(self) -> dict[str, str]:
        """The user-visible properties under their Graph names (for diffs and the audit log)."""
        return {name: getattr(self, attr) for name, attr in self.GRAPH_FIELDS.items()}

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

"""The Graph entity types the sandbox serves: their properties, enums and JSON serialization."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from django.db import models


class Kind(StrEnum):
    STRING = "Edm.String"
    DATETIME = "Edm.DateTimeOffset"
    BOOLEAN = "Edm.Boolean"
    ENUM = "enum"
    JSON = "complex"


class Writable(StrEnum):
    NEVER = "never"
    ON_CREATE = "on create"
    ALWAYS = "always"


@dataclass(frozen=True)
class Property:
    name: str
    field: str
    kind: Kind = Kind.STRING
    enum: tuple[str, ...] = ()
    writable: Writable = Writable.ALWAYS
    required_on_create: bool = False
    # Stored as "" in the sandbox's tables, shown to clients as null.
    empty_is_null: bool = False
    # The column's width: longer strings are refused with a 400, not a database error.
    max_length: int = 255


@dataclass(frozen=True)
class EntityType:
    name: str
    properties: tuple[Property, ...]

    @property
    def odata_type(self) -> str:
        return f"#microsoft.graph.{self.name}"

    @property
    def qualified_name(self) -> str:
        return f"microsoft.graph.{self.name}"

    def property(self, name: str) -> Property | None:
        return next((prop for prop in self.properties if prop.name == name), None)

    def property_names(self) -> list[str]:
        return [prop.name for prop in self.properties]


EXCHANGE_CONNECTOR_STATUSES = (
    "none",
    "connectionPending",
    "connected",
    "disconnected",
    "unknownFutureValue",
)
EXCHANGE_CONNECTOR_TYPES = (
    "onPremises",
    "hosted",
    "serviceToService",
    "dedicated",
    "unknownFutureValue",
)
EXCHANGE_SYNC_TYPES = ("fullSync", "deltaSync")
APP_PROXY_CONNECTOR_STATUSES = ("active", "inactive")
# Graph's metadata has this one member (no `syncFabric`, no sentinel).
CONNECTOR_GROUP_TYPES = ("applicationProxy",)
CONNECTOR_GROUP_REGIONS = ("nam", "eur", "aus", "asia", "ind", "unknownFutureValue")

_ID = Property("id", "id", writable=Writable.NEVER)

EXCHANGE_CONNECTOR = EntityType(
    "deviceManagementExchangeConnector",
    (
        _ID,
        Property("lastSyncDateTime", "last_sync_date_time", Kind.DATETIME),
        Property("status", "status", Kind.ENUM, EXCHANGE_CONNECTOR_STATUSES),
        Property("primarySmtpAddress", "primary_smtp_address", max_length=254),
        Property("serverName", "server_name"),
        Property("connectorServerName", "connector_server_name"),
        Property(
            "exchangeConnectorType", "exchange_connector_type", Kind.ENUM, EXCHANGE_CONNECTOR_TYPES
        ),
        Property("version", "version", max_length=64),
        Property("exchangeAlias", "exchange_alias", max_length=64),
        Property("exchangeOrganization", "exchange_organization"),
    ),
)

APP_PROXY_CONNECTOR = EntityType(
    "connector",
    (
        _ID,
        Property("machineName", "machine_name"),
        Property("externalIp", "external_ip", max_length=64),
        Property("status", "status", Kind.ENUM, APP_PROXY_CONNECTOR_STATUSES),
        Property("version", "version", writable=Writable.NEVER, max_length=64),
    ),
)

CONNECTOR_GROUP = EntityType(
    "connectorGroup",
    (
        _ID,
        Property("name", "name", required_on_create=True, max_length=128),
        Property(
            "connectorGroupType",
            "connector_group_type",
            Kind.ENUM,
            CONNECTOR_GROUP_TYPES,
            writable=Writable.ON_CREATE,
        ),
        Property("isDefault", "is_default", Kind.BOOLEAN, writable=Writable.NEVER),
        Property("region", "region", Kind.ENUM, CONNECTOR_GROUP_REGIONS, empty_is_null=True),
    ),
)

# Published applications are not modelled, only counted per group: a group's `applications`
# are that many stand-ins with an id and a name.
APPLICATION = EntityType(
    "application",
    (_ID, Property("displayName", "display_name", writable=Writable.NEVER)),
)

AUDIT_EVENT = EntityType(
    "auditEvent",
    tuple(
        Property(name, field, kind, writable=Writable.NEVER)
        for name, field, kind in (
            ("id", "id", Kind.STRING),
            ("displayName", "display_name", Kind.STRING),
            ("componentName", "component_name", Kind.STRING),
            ("actor", "actor", Kind.JSON),
            ("activity", "activity", Kind.STRING),
            ("activityDateTime", "activity_date_time", Kind.DATETIME),
            ("activityType", "activity_type", Kind.STRING),
            ("activityOperationType", "activity_operation_type", Kind.STRING),
            ("activityResult", "activity_result", Kind.STRING),
            ("correlationId", "correlation_id", Kind.STRING),
            ("resources", "resources", Kind.JSON),
            ("category", "category", Kind.STRING),
        )
    ),
)


def format_datetime(value: datetime) -> str:
    """Graph's timestamp form: UTC with a `Z`, fractional seconds only when there are some."""
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def graph_value(prop: Property, value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if prop.empty_is_null and value == "":
        return None
    return value


def to_graph(entity_type: EntityType, instance: models.Model) -> dict[str, Any]:
    """The entity as Graph returns it in a collection or entity body."""
    body: dict[str, Any] = {"@odata.type": entity_type.odata_type}
    for prop in entity_type.properties:
        body[prop.name] = graph_value(prop, getattr(instance, prop.field))
    return body

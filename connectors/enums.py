"""Graph's enums for the connectors, with the exact Graph strings and human labels.

`unknownFutureValue` is Graph's evolvable-enum sentinel: it is never offered in a dropdown
(`choosable`), but a value Graph returns — that one or any other the dashboard does not know — is
shown as it is (`label_for`).
"""

from __future__ import annotations

from django.db import models

SENTINEL = "unknownFutureValue"


class ExchangeConnectorStatus(models.TextChoices):
    NONE = "none", "None"
    CONNECTION_PENDING = "connectionPending", "Connection pending"
    CONNECTED = "connected", "Connected"
    DISCONNECTED = "disconnected", "Disconnected"
    UNKNOWN_FUTURE_VALUE = SENTINEL, "Unknown future value"


class ExchangeConnectorType(models.TextChoices):
    ON_PREMISES = "onPremises", "On-premises"
    HOSTED = "hosted", "Hosted"
    SERVICE_TO_SERVICE = "serviceToService", "Service to service"
    DEDICATED = "dedicated", "Dedicated"
    UNKNOWN_FUTURE_VALUE = SENTINEL, "Unknown future value"


class ExchangeSyncType(models.TextChoices):
    DELTA_SYNC = "deltaSync", "Quick sync"
    FULL_SYNC = "fullSync", "Full sync"


class SyncProgress(models.TextChoices):
    """The dashboard's own verdict on a requested sync (Graph only says it accepted the request)."""

    PENDING = "pending", "Sync requested"
    SYNCED = "synced", "Synced"
    NOT_SEEN = "not_seen", "No sync seen"
    REFUSED = "refused", "Sync refused"
    # Graph may or may not have accepted the request (a 5xx, a timeout, a dropped connection).
    UNKNOWN = "unknown", "Sync outcome unknown"


class AppProxyConnectorStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"


class ConnectorGroupType(models.TextChoices):
    # Graph's metadata has this one member; any other value a tenant returns is shown as-is.
    APPLICATION_PROXY = "applicationProxy", "Application Proxy"
    UNKNOWN_FUTURE_VALUE = SENTINEL, "Unknown future value"


class ConnectorGroupRegion(models.TextChoices):
    NAM = "nam", "North America"
    EUR = "eur", "Europe"
    AUS = "aus", "Australia"
    ASIA = "asia", "Asia"
    IND = "ind", "India"
    UNKNOWN_FUTURE_VALUE = SENTINEL, "Unknown future value"


def choosable(enum: type[models.TextChoices]) -> list[tuple[str, str]]:
    """The choices a form may offer: every value but the sentinel."""
    return [(value, label) for value, label in enum.choices if value != SENTINEL]


def label_for(enum: type[models.TextChoices], value: str | None) -> str:
    """The human label of a known value; an unknown value as Graph sent it."""
    if value is None or value == "":
        return "—"
    try:
        return str(enum(value).label)
    except ValueError:
        return value


# The values a request may set (never unknownFutureValue): the API schema's named enums
# (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
EXCHANGE_CONNECTOR_STATUSES = [value for value, _ in choosable(ExchangeConnectorStatus)]
APP_PROXY_CONNECTOR_STATUSES = [value for value, _ in choosable(AppProxyConnectorStatus)]

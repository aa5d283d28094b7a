"""Connector health: one function of the connector's status and the age of its last sync.

The list, the detail page, the overview, the CSV export and the API all call `health_for`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models

from connectors.enums import ExchangeConnectorStatus

WARNING_AFTER = timedelta(days=1)
UNHEALTHY_AFTER = timedelta(days=3)

RULE = (
    "Disconnected, or last sync 3 days ago or more: unhealthy. Last sync over 1 day ago, or a "
    "status other than Connected: warning."
)


class Health(models.TextChoices):
    HEALTHY = "healthy", "Healthy"
    WARNING = "warning", "Warning"
    UNHEALTHY = "unhealthy", "Unhealthy"
    NEVER_SYNCED = "never", "Never synced"


def health_for(*, status: str, last_sync: datetime | None, now: datetime) -> Health:
    """The worse of what the status and the last sync's age say (Intune's 1- and 3-day marks).

    A disconnected connector is unhealthy however recently it synced; one that never synced is
    "never synced" unless it is disconnected; any status but Connected is at best a warning.
    """
    if status == ExchangeConnectorStatus.DISCONNECTED:
        return Health.UNHEALTHY
    if last_sync is None:
        return Health.NEVER_SYNCED
    age = now - last_sync
    if age >= UNHEALTHY_AFTER:
        return Health.UNHEALTHY
    if age > WARNING_AFTER or status != ExchangeConnectorStatus.CONNECTED:
        return Health.WARNING
    return Health.HEALTHY

"""Connector health from the age of the last sync, with Intune's own thresholds."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models

WARNING_AFTER = timedelta(days=1)
UNHEALTHY_AFTER = timedelta(days=3)


class Health(models.TextChoices):
    HEALTHY = "healthy", "Healthy"
    WARNING = "warning", "Warning"
    UNHEALTHY = "unhealthy", "Unhealthy"
    NEVER_SYNCED = "never", "Never synced"


def health_for(last_sync: datetime | None, now: datetime) -> Health:
    """Over 1 day since the last sync is a warning; 3 days or more is unhealthy."""
    if last_sync is None:
        return Health.NEVER_SYNCED
    age = now - last_sync
    if age >= UNHEALTHY_AFTER:
        return Health.UNHEALTHY
    if age > WARNING_AFTER:
        return Health.WARNING
    return Health.HEALTHY

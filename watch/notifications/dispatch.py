"""Announcing a notice: its delivery rows now, the sending on a worker once they are committed.

Connected to `incident_event` (watch.apps); "send a test" calls `announce` for one channel.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from watch import tasks
from watch.models import Delivery, NotificationChannel
from watch.notifications import deliveries
from watch.observations import Notice

logger = logging.getLogger(__name__)


def announce(notice: Notice, channels: list[NotificationChannel] | None = None) -> list[Delivery]:
    """Rows for the channels that get this notice (all that match its tenant unless given),
    each sent by the task `watch.deliver` after the transaction commits."""
    if channels is None:
        channels = deliveries.channels_for(notice.tenant_id)
    created = deliveries.create_deliveries(notice, channels)
    for delivery in created:
        transaction.on_commit(lambda pk=delivery.pk: _enqueue(pk), robust=True)
    return created


def _enqueue(delivery_id: int) -> None:
    try:
        tasks.deliver.delay(delivery_id)
    except Exception:
        # The broker is down: the row stays pending, and `watch.deliver_pending` sends it later.
        logger.exception("Could not queue delivery %s; it stays pending.", delivery_id)


def on_incident_event(sender: Any, notice: Notice, **kwargs: Any) -> None:
    announce(notice)

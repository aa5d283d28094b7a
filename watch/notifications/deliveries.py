"""Delivery rows: one per channel and incident event, each attempt recorded on it.

`create_deliveries` makes the rows (the unique constraint keeps an event announced twice to one
row per channel); `deliver` sends one under its row lock, so a task delivered twice (acks_late
after a worker died, or a duplicate message) cannot send a notice that was already sent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from watch.models import Delivery, DeliveryStatus, NotificationChannel
from watch.notifications import payloads, sending
from watch.observations import Notice


class DeliveryRetry(Exception):
    """This attempt failed in a way a later one may not: the task tries again with backoff."""


def channels_for(tenant_id: str) -> list[NotificationChannel]:
    """The enabled channels that get this tenant's notices: its own and the global ones."""
    return list(
        NotificationChannel.objects.filter(enabled=True).filter(
            Q(tenant__isnull=True) | Q(tenant__tenant_id=tenant_id)
        )
    )


def create_deliveries(notice: Notice, channels: list[NotificationChannel]) -> list[Delivery]:
    """The rows this notice needs and does not have yet (none for an event already announced)."""
    created = []
    for channel in channels:
        if notice.incident_id is None:  # a test: no incident to be announced twice
            created.append(
                Delivery.objects.create(
                    channel=channel, event=notice.event, notice=payloads.notice_to_json(notice)
                )
            )
            continue
        values = {"channel": channel, "incident_id": notice.incident_id, "event": notice.event}
        try:
            with transaction.atomic():
                delivery, new = Delivery.objects.get_or_create(
                    **values, defaults={"notice": payloads.notice_to_json(notice)}
                )
        except IntegrityError:  # another worker made it between our get and create
            continue
        if new:
            created.append(delivery)
    return created


def deliver(delivery_id: int, *, final: bool) -> dict[str, Any]:
    """Send one delivery unless it is already done; record the attempt. DeliveryRetry when it
    failed and may succeed later (unless `final`: then it is marked failed)."""
    with transaction.atomic():
        # Write first: that takes the row's lock on PostgreSQL and the database's write lock on
        # SQLite (which ignores select_for_update), so two workers never both find it pending.
        Delivery.objects.filter(pk=delivery_id).update(last_attempt_at=timezone.now())
        delivery = (
            Delivery.objects.select_for_update()
            .select_related("channel")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return {"delivery": delivery_id, "skipped": "gone (its channel was deleted)"}
        if delivery.status != DeliveryStatus.PENDING:
            return {"delivery": delivery_id, "skipped": f"already {delivery.status}"}
        retry = _attempt(delivery, final=final)
    result = {
        "delivery": delivery_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "response_status": delivery.response_status,
    }
    if retry:
        raise DeliveryRetry(delivery.last_error)
    if delivery.last_error:
        result["error"] = delivery.last_error
    return result


def _attempt(delivery: Delivery, *, final: bool) -> bool:
    """Inside the row lock: one attempt, stored. Whether to try again."""
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    channel = delivery.channel
    retry = False
    if not channel.enabled:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = "The channel was turned off before this was sent."
    else:
        try:
            status = sending.send(
                channel, payloads.notice_from_json(delivery.notice), delivery_id=delivery.pk
            )
        except sending.SendFailed as exc:
            delivery.last_error = exc.message
            delivery.response_status = exc.status
            retry = exc.retry and not final
            if not retry:
                delivery.status = DeliveryStatus.FAILED
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = now
            delivery.response_status = status
            delivery.last_error = ""
    delivery.save()
    return retry


def never_tried(*, older_than_seconds: int) -> list[int]:
    """Pending deliveries no worker has tried, made longer ago than that (their message lost)."""
    before = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = Delivery.objects.filter(
        status=DeliveryStatus.PENDING, attempts=0, created_at__lt=before
    )
    return list(pending.values_list("pk", flat=True)[:500])

"""Reads for the channel pages: each channel with its deliveries counted."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet

from watch.models import Delivery, DeliveryStatus, NotificationChannel

DELIVERIES_SHOWN = 50


def channel_rows() -> QuerySet[NotificationChannel]:
    return NotificationChannel.objects.select_related("tenant").annotate(
        sent=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SENT)),
        failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
        last_delivery_at=Max("deliveries__created_at"),
    )


def recent_deliveries(channel: NotificationChannel) -> list[Delivery]:
    return list(channel.deliveries.all()[:DELIVERIES_SHOWN])

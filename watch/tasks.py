"""The watch's Celery tasks. Each is idempotent and records its run (`watch.runs`)."""

from __future__ import annotations

import json
from typing import Any

from celery import shared_task
from django.conf import settings

from audit.checkpoints import CheckpointError, emit_checkpoint
from audit.models import AuditEntry
from watch import credentials, heartbeats
from watch.notifications import deliveries
from watch.runs import RecordedTask, schedule_name


@shared_task(name="watch.heartbeat", base=RecordedTask, bind=True)
def heartbeat(self: RecordedTask) -> dict[str, Any]:
    """This worker is alive and takes work from the queue (beat sends it every
    WATCH_HEARTBEAT_SECONDS). Run outside a worker (`watch_run --here`) it records nothing."""
    hostname = self.request.hostname
    if not hostname:
        return {"worker": None, "note": "not on a worker: no heartbeat recorded"}
    row = heartbeats.beat(hostname)
    return {"worker": row.hostname, "pid": row.pid}


@shared_task(name="watch.check_credentials", base=RecordedTask, bind=True)
def check_credentials(self: RecordedTask) -> dict[str, Any]:
    """Redeem the watch's refresh token: keeps it alive (it slides with use) and finds a revoked
    or expired one before a sweep needs it (the credentials then need sign-in)."""
    return credentials.check(via=f"schedule '{schedule_name(self.request) or 'run now'}'")


@shared_task(
    name="watch.audit_checkpoint",
    base=RecordedTask,
    bind=True,
    autoretry_for=(CheckpointError,),
    retry_backoff=True,
    max_retries=3,
)
def audit_checkpoint(self: RecordedTask) -> dict[str, Any]:
    """Anchor the audit chain's head outside the database (`audit.checkpoints`): a log line and,
    with AUDIT_CHECKPOINT_WEBHOOK_URL, a POST; a webhook that fails is tried again with backoff.
    Safe to repeat: a second checkpoint of the same head says the same thing. An empty log has
    nothing to anchor yet: not a failure, and nothing to retry."""
    if not AuditEntry.objects.exists():
        return {"skipped": "The audit log is empty: nothing to checkpoint yet."}
    return json.loads(emit_checkpoint().to_json())


@shared_task(
    name="watch.deliver",
    base=RecordedTask,
    bind=True,
    autoretry_for=(deliveries.DeliveryRetry,),
    retry_backoff=True,
    retry_backoff_max=settings.WATCH_NOTIFY_RETRY_BACKOFF_MAX_SECONDS,
    max_retries=settings.WATCH_NOTIFY_MAX_RETRIES,
)
def deliver(self: RecordedTask, delivery_id: int) -> dict[str, Any]:
    """Send one notification (a Delivery row), each attempt recorded on the row; a failure that
    may pass (no answer, 429, 5xx) is tried again with exponential backoff, up to
    WATCH_NOTIFY_MAX_RETRIES times. Safe to deliver twice: a sent row is not sent again."""
    final = self.request.retries >= self.max_retries
    return deliveries.deliver(delivery_id, final=final)


@shared_task(name="watch.deliver_pending", base=RecordedTask, bind=True)
def deliver_pending(self: RecordedTask) -> dict[str, Any]:
    """Queue again the deliveries never tried (the broker was down when they were made)."""
    queued = deliveries.never_tried(older_than_seconds=settings.WATCH_NOTIFY_REQUEUE_SECONDS)
    for delivery_id in queued:
        deliver.delay(delivery_id)
    return {"queued": queued}

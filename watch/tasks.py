"""The watch's Celery tasks. Each is idempotent and records its run (`watch.runs`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from audit.checkpoints import CheckpointError, emit_checkpoint
from audit.models import AuditEntry
from watch import credentials, heartbeats, history, incidents, scheduled_syncs, sweeps
from watch.budget import BudgetExceeded
from watch.models import ScheduledSync, ScheduleRun, ScheduleRunOutcome, SweepTrigger
from watch.notifications import deliveries
from watch.runs import RecordedTask, schedule_name, worker_name


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


@shared_task(name="watch.dispatch_sweeps", base=RecordedTask, bind=True)
def dispatch_sweeps(self: RecordedTask) -> dict[str, Any]:
    """Send the sweeps due before the next dispatch, each with a countdown to its slot (beat
    runs this every WATCH_SWEEP_DISPATCH_SECONDS; `watch.sweeps`)."""
    return sweeps.dispatch(now=timezone.now(), send=sweep_tenant.apply_async)


@shared_task(name="watch.sweep_tenant", base=RecordedTask, bind=True, max_retries=None)
def sweep_tenant(
    self: RecordedTask, tenant_id: str, sweep_key: str = "", due: str = ""
) -> dict[str, Any]:
    """One tenant's sweep. Without a key (run now) its slot is its own task: a redelivery of
    it carries the same task id, so the same key. Deferred (retried when the throttling budget
    has room) rather than sent over it; retried later when another worker holds it."""
    task_id = self.request.id or ""
    try:
        return sweeps.sweep(
            tenant_id=tenant_id,
            sweep_key=sweep_key or sweeps.run_now_key(tenant_id, task_id),
            due=datetime.fromisoformat(due) if due else timezone.now(),
            trigger=SweepTrigger.SCHEDULE if sweep_key else SweepTrigger.RUN_NOW,
            task_id=task_id,
            worker=worker_name(self.request),
        )
    except (BudgetExceeded, sweeps.SweepBusy) as exc:
        raise self.retry(
            args=[tenant_id],
            kwargs={"sweep_key": sweep_key or sweeps.run_now_key(tenant_id, task_id), "due": due},
            countdown=exc.retry_after,
            exc=exc,
        ) from exc


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


@shared_task(name="watch.prune_history", base=RecordedTask, bind=True)
def prune_history(self: RecordedTask) -> dict[str, Any]:
    """Forget object history and resolved incidents past WATCH_HISTORY_RETENTION_DAYS, and
    sweeps past WATCH_SWEEPS_KEPT_HOURS (beat, every WATCH_HISTORY_PRUNE_SECONDS); repeating it
    is harmless."""
    now = timezone.now()
    return {**history.prune(now=now), **incidents.prune_resolved(now=now)}


@shared_task(name="watch.scheduled_sync", base=RecordedTask, bind=True)
def scheduled_sync(self: RecordedTask, schedule_id: int) -> dict[str, Any]:
    """A scheduled sync's run (beat sends it from the schedule's PeriodicTask): skipped, or the
    syncs requested through `$batch`; their check is sent for WATCH_SCHEDULED_SYNC_VERIFY_SECONDS
    later (`verify_scheduled_sync`)."""
    schedule = ScheduledSync.objects.filter(pk=schedule_id).first()
    if schedule is None:
        return {"skipped": f"Schedule {schedule_id} no longer exists."}
    run = scheduled_syncs.run(schedule, task_id=self.request.id or "")
    if run.outcome == ScheduleRunOutcome.PENDING and run.requested_at is not None:
        verify_scheduled_sync.apply_async(
            kwargs={"run_id": run.pk}, countdown=settings.WATCH_SCHEDULED_SYNC_VERIFY_SECONDS
        )
    return {"schedule": schedule.name, "run": run.pk, "outcome": run.outcome}


@shared_task(name="watch.verify_scheduled_sync", base=RecordedTask, bind=True)
def verify_scheduled_sync(self: RecordedTask, run_id: int) -> dict[str, Any]:
    """Did a scheduled run's syncs land? Safe to repeat: it reads and records the same."""
    run = ScheduleRun.objects.select_related("schedule").filter(pk=run_id).first()
    if run is None:
        return {"skipped": f"Run {run_id} no longer exists (its schedule was deleted)."}
    run = scheduled_syncs.verify(run)
    return {"schedule": run.schedule.name, "run": run.pk, "outcome": run.outcome}

"""The watch's Celery tasks. Each is idempotent and records its run (`watch.runs`)."""

from __future__ import annotations

import json
from typing import Any

from celery import shared_task
from django.conf import settings

from audit.checkpoints import CheckpointError, emit_checkpoint
from audit.models import AuditEntry
from watch import credentials, heartbeats, scheduled_syncs
from watch.models import ScheduledSync, ScheduleRun, ScheduleRunOutcome
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

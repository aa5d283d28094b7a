"""The watch's Celery tasks. Each is idempotent and records its run (`watch.runs`)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from watch import credentials, heartbeats
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

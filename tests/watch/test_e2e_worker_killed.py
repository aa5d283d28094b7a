"""Acceptance: a worker process killed in the middle of a sweep. Its sweep is done again by
another worker process, and the incident it finds opens once and is notified once.

Real `celery -A dashboard worker` processes on Redis (acks_late: a message its worker never
acknowledged goes back to the queue once the visibility timeout passes), on the test database.
The first worker's sandbox answers `$batch` slowly (a `delay` fault rule through SANDBOX_FAULTS,
its process's own), so its sweep is in flight when SIGKILL arrives. Needs REDIS_URL: the
filesystem transport of a Redis-less machine drops a killed worker's message (README).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import current_app
from django.conf import settings
from django.db import connection
from django.utils import timezone

from sandbox import scenarios
from tests.tenants.conftest import HOME
from tests.watch import e2e
from tests.watch.conftest import wait_for
from tests.watch.receivers import WebhookReceiver, webhook_receiver
from watch import tasks
from watch.models import Delivery, Incident, Sweep, SweepStatus

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="redelivery of a killed worker's task is a Redis property (set REDIS_URL)",
)

QUEUE = "celery"  # the worker processes' default queue: sweeps and deliveries alike
# A sweep's Graph calls give up after 8 s, well before the task's time limit (40 s). On SQLite
# the sweep's lease lasts that limit plus 30 s, so the message must come back after both (75 s);
# PostgreSQL's advisory lock goes with the killed worker's connection, so 20 s is enough there.
WORKER_ENV = {
    "GRAPH_BACKGROUND_DEADLINE_SECONDS": "8",
    "WATCH_TASK_TIME_LIMIT_SECONDS": "40",
}


def visibility_timeout() -> str:
    return "20" if connection.vendor == "postgresql" else "75"


SLOW_BATCH = [{"method": "POST", "path": "/beta/$batch", "fault": "delay", "seconds": 30}]


def database_url() -> str:
    """The test database, for processes of their own."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(name: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in {"ENTRA_CLIENT_ID", "SANDBOX_FAULTS"}
    }
    environ.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=database_url(),
        PYTHONUNBUFFERED="1",
        **WORKER_ENV,
        WATCH_VISIBILITY_TIMEOUT_SECONDS=visibility_timeout(),
        **env,
    )
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "dashboard",
        "worker",
        "--pool",
        "solo",
        "--hostname",
        f"{name}@%h",
        "--queues",
        QUEUE,
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
    ]
    with log.open("wb") as output:
        return subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=environ,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver(secret=e2e.SECRET) as running:
        yield running


@pytest.fixture
def workers(broker: dict[str, Any], tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    with current_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)  # what an earlier run left behind
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        stop(process)
    for log in sorted(tmp_path.glob("*.log")):
        sys.stdout.write(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}\n")


def test_a_sweep_killed_with_its_worker_is_done_by_another_and_alerts_once(
    transactional_db: None,
    workers: list[subprocess.Popen[bytes]],
    receiver: WebhookReceiver,
    tmp_path: Path,
) -> None:
    watched = e2e.watched_estate()
    e2e.watch_turned_on()
    # One sighting opens the incident: the killed sweep is the one that would have opened it.
    e2e.groups_only(consecutive=1)
    e2e.webhook_channel(receiver.url)
    scenarios.create(scenarios.Request("group-down", watched.group.id))

    victim = start_worker("victim", tmp_path / "victim.log", SANDBOX_FAULTS=json.dumps(SLOW_BATCH))
    workers.append(victim)
    sent = tasks.sweep_tenant.apply_async(args=[HOME], queue=QUEUE)

    running = wait_for(
        lambda: (
            Sweep.objects.filter(status=SweepStatus.RUNNING, worker__startswith="victim@")
            .order_by("id")
            .first()
        ),
        seconds=60,
        what="the victim to start the sweep",
    )
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait(10) == -signal.SIGKILL
    killed_at = timezone.now()
    # Mid-sweep: nothing was concluded, nothing sent.
    assert Sweep.objects.get(pk=running.pk).status == SweepStatus.RUNNING
    assert not Incident.objects.exists() and not Delivery.objects.exists()

    workers.append(start_worker("rescuer", tmp_path / "rescuer.log"))

    done = wait_for(
        lambda: Sweep.objects.filter(pk=running.pk, status=SweepStatus.DONE).first(),
        seconds=150,
        what="another worker to redo the sweep",
    )
    assert done.sweep_key == running.sweep_key and done.task_id == sent.id
    assert done.worker.startswith("rescuer@") and done.attempts == 2
    assert done.finished_at is not None and done.finished_at > killed_at
    incident = wait_for(lambda: e2e.open_incident(watched.group.id), what="the incident")
    wait_for(lambda: e2e.sent("opened"), seconds=30, what="the notice")

    # Once more through the rescuer: the same outage, no second incident, no second notice.
    again = tasks.sweep_tenant.apply_async(args=[HOME], queue=QUEUE)
    wait_for(
        lambda: Sweep.objects.filter(task_id=again.id, status=SweepStatus.DONE).exists(),
        seconds=60,
        what="a later sweep",
    )
    assert list(Incident.objects.values_list("pk", flat=True)) == [incident.pk]
    assert Incident.objects.get().seen == 2
    (delivery,) = Delivery.objects.all()
    assert (delivery.event, delivery.status, delivery.attempts) == ("opened", "sent", 1)
    (request,) = receiver.received
    assert request.signature_ok is True
    assert (request.json()["event"], request.json()["incident_id"]) == ("opened", incident.pk)

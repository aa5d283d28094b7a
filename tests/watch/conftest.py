"""A real Celery worker and beat for the engine's tests: threads in the test process, on the
filesystem transport in a temporary folder (on Redis, a queue of their own, with REDIS_URL)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import current_app
from celery.beat import Service
from celery.contrib.testing.worker import start_worker
from django.db import connections
from django.test import override_settings

from tests.watch.receivers import Inbox, smtp_server

Schedule = dict[str, dict[str, Any]]


def wait_for(condition: Callable[[], Any], *, seconds: float = 15, what: str = "") -> Any:
    """Poll until `condition()` is truthy; its value, or a failure naming `what`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"Not within {seconds} s: {what}")


# One queue for the session: Celery keeps the queues it declared (app.amqp) once built.
QUEUE = f"test-watch-{uuid.uuid4().hex[:8]}"


def _broker(tmp_path: Path) -> dict[str, Any]:
    redis_url = os.environ.get("REDIS_URL")
    queue = QUEUE
    if redis_url:
        return {
            "broker_url": redis_url,
            "broker_transport": None,
            "broker_transport_options": {"visibility_timeout": 60, "polling_interval": 0.1},
            "task_default_queue": queue,
        }
    folders = {name: tmp_path / "broker" / name for name in ("queue", "control")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    return {
        "broker_url": "filesystem://",
        "broker_transport": "watch.filesystem_transport:Transport",
        "broker_transport_options": {
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "control_folder": str(folders["control"]),
            "polling_interval": 0.1,
        },
        "task_default_queue": queue,
    }


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The Celery app pointed at a broker of the module's own; restored afterwards."""
    conf = current_app.conf
    wanted = _broker(tmp_path_factory.mktemp("watch"))
    saved = {key: conf[key] for key in [*wanted, "beat_schedule"]}
    conf.update(wanted)
    forget_broker()
    with current_app.connection_for_write() as connection:
        # What an earlier run's beat sent and no worker took (Redis keeps it).
        connection.default_channel.queue_purge(QUEUE)
    yield wanted
    conf.update(saved)
    forget_broker()


def forget_broker() -> None:
    """Drop what the app built from the earlier settings: its connections to the broker and its
    queues (app.amqp, built once, routes every task to the default queue it knew)."""
    current_app._pool = None
    current_app.__dict__.pop("amqp", None)


@pytest.fixture(scope="module")
def worker(broker: dict[str, Any], django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """A real worker (Celery's test worker: a thread with the solo pool) on that broker, for a
    whole module (it takes seconds to stop); tests that use it take `transactional_db`."""
    with (
        django_db_blocker.unblock(),
        # Each worker's own heartbeat (watch.worker_steps) every second here.
        override_settings(WATCH_HEARTBEAT_SECONDS=1),
        start_worker(
            current_app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=20
        ) as running,
    ):
        yield running
        connections.close_all()


@pytest.fixture
def beat(worker: Any, transactional_db: None) -> Iterator[Callable[[Schedule], None]]:
    """Start beat (django-celery-beat's database scheduler, in a thread) with a schedule."""
    started: list[tuple[Service, threading.Thread]] = []

    def start(schedule: Schedule) -> None:
        current_app.conf.beat_schedule = schedule
        service = Service(
            current_app, max_interval=1, scheduler_cls=current_app.conf.beat_scheduler
        )

        def run() -> None:
            try:
                service.start()
            finally:
                connections.close_all()  # this thread's: the test database is dropped later

        thread = threading.Thread(target=run, name="beat", daemon=True)
        thread.start()
        started.append((service, thread))

    yield start
    for service, thread in started:
        service.stop(wait=True)
        thread.join(10)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A local SMTP server, and Django's mail settings pointed at it."""
    with (
        smtp_server() as running,
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=running.port,
            DEFAULT_FROM_EMAIL="watch@dashboard.example",
        ),
    ):
        yield running

"""The watch's own health: the page (workers, broker and queue depth, schedules, runs) and the
broker in /healthz, which never fails the web check for it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from celery import current_app
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from tests.watch.conftest import QUEUE, forget_broker
from watch.models import RunStatus, TaskRun, WorkerHeartbeat


@pytest.fixture
def broker_down() -> Iterator[None]:
    """Nothing listens on port 1: the broker is unreachable."""
    conf = current_app.conf
    saved = conf.broker_url, conf.broker_transport, conf.broker_transport_options
    conf.broker_url = "redis://127.0.0.1:1/0"
    conf.broker_transport = None  # the URL's own (the filesystem default names a transport class)
    conf.broker_transport_options = {"socket_connect_timeout": 1}
    forget_broker()
    yield
    conf.broker_url, conf.broker_transport, conf.broker_transport_options = saved
    forget_broker()


@pytest.mark.django_db
def test_healthz_reports_the_broker_down_without_failing_the_web_check(broker_down: None) -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["broker"]) == ("ok", "ok", "unreachable")
    assert "the web is unaffected" in body["broker_note"]


@pytest.mark.django_db
def test_healthz_probes_the_broker_once_per_check_interval(
    broker_down: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load balancer polls /healthz every few seconds: one broker connection per interval."""
    from watch import broker as watch_broker

    probes: list[bool] = []
    probe = watch_broker.broker_status

    def counted(**kwargs: Any) -> watch_broker.BrokerStatus:
        probes.append(kwargs.get("depth", True))
        return probe(**kwargs)

    monkeypatch.setattr(watch_broker, "broker_status", counted)
    settings.HEALTHZ_BROKER_CHECK_SECONDS = 10
    for _ in range(3):
        assert Client().get("/healthz").json()["broker"] == "unreachable"
    assert probes == [False]  # once, and without counting the queues

    settings.HEALTHZ_BROKER_CHECK_SECONDS = 0
    for _ in range(2):
        assert Client().get("/healthz").json()["broker"] == "unreachable"
    assert len(probes) == 3


def test_the_page_shows_workers_queue_depth_and_each_schedule_s_last_run(
    reader_client: Client, broker: dict[str, Any]
) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(hostname="celery@alive", started_at=now, last_beat_at=now)
    WorkerHeartbeat.objects.create(
        hostname="celery@quiet", started_at=now, last_beat_at=now - timedelta(hours=1)
    )
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.create(
        name="watch heartbeat", task="watch.heartbeat", interval=every_minute, last_run_at=now
    )
    TaskRun.objects.create(
        task_id="run-1",
        task_name="watch.heartbeat",
        schedule="watch heartbeat",
        worker="celery@alive",
        status=RunStatus.FAILED,
        started_at=now,
        finished_at=now,
        error="OperationalError: database is locked",
    )
    # Two tasks wait in the queue: no worker runs here.
    for _ in range(2):
        current_app.send_task("watch.heartbeat")

    page = reader_client.get("/watch/").content.decode()
    with current_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(QUEUE)

    assert "celery@alive" in page and "Alive" in page
    assert "celery@quiet" in page and "Silent" in page
    assert "Reachable" in page
    assert f'Queue <code>{QUEUE}</code></dt><dd data-testid="queue-depth">2 waiting' in page
    assert "every 60 seconds" in page.lower() or "every minute" in page.lower()
    assert "OperationalError: database is locked" in page
    assert "Turn the watch on" not in page  # a Reader sees, but cannot act

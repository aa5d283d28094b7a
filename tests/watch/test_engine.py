"""The engine with a real worker and beat: schedules in the database, runs recorded."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from celery import shared_task
from django.core.management import call_command
from django.core.management.base import CommandError
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from audit import chain
from audit.checkpoints import Checkpoint
from audit.models import AuditEntry, Outcome, Phase
from audit.services import Target, audit_record
from graph.deadline import current_deadline
from tests.watch.conftest import Schedule, wait_for
from watch import credentials
from watch.models import RunStatus, TaskRun, WorkerHeartbeat
from watch.runs import RecordedTask, finish_run, start_run


def test_beat_sends_the_heartbeat_on_schedule_and_a_worker_stores_each_run(
    worker: Any, beat: Callable[[Schedule], None]
) -> None:
    beat({"watch heartbeat": {"task": "watch.heartbeat", "schedule": 1.0}})

    done = TaskRun.objects.filter(schedule="watch heartbeat", status=RunStatus.SUCCEEDED)
    runs = wait_for(lambda: list(done) if done.count() >= 2 else None, what="two heartbeats")
    # Celery's test worker names its tasks' requests after the host part of its node name.
    (hostname,) = {run.worker for run in runs}
    assert hostname and hostname in worker.hostname
    assert runs[0].result == {"worker": hostname, "pid": runs[0].result["pid"]}
    # Each run knows how long it waited between beat sending it and a worker starting it.
    assert all(run.waited_seconds is not None and 0 <= run.waited_seconds < 10 for run in runs)
    assert WorkerHeartbeat.objects.get(hostname=hostname).last_beat_at is not None
    # The schedule lives in the database (django-celery-beat), written there by beat.
    schedule = PeriodicTask.objects.get(name="watch heartbeat")
    assert schedule.task == "watch.heartbeat"
    assert schedule.last_run_at is not None  # each send recorded as beat makes it
    assert (schedule.interval.every, schedule.interval.period) == (1, "seconds")


def test_beat_has_the_audit_log_checkpointed_and_the_checkpoint_is_the_run_s_result(
    worker: Any, beat: Callable[[Schedule], None]
) -> None:
    head = audit_record(
        actor=credentials.watch_actor(via="test"),
        action="test.action",
        target=Target(type="test", id="1"),
        phase=Phase.OUTCOME,
        correlation_id=uuid.uuid4(),
        outcome=Outcome.SUCCEEDED,
    )
    beat({"audit checkpoint": {"task": "watch.audit_checkpoint", "schedule": 1.0}})

    run = wait_for(
        lambda: TaskRun.objects.filter(
            schedule="audit checkpoint", status=RunStatus.SUCCEEDED
        ).first(),
        what="a checkpoint run",
    )
    checkpoint = Checkpoint.from_text(json.dumps(run.result))
    assert (checkpoint.last_id, checkpoint.last_hash) == (head.id, head.hash)
    assert checkpoint.count == AuditEntry.objects.count()
    assert checkpoint.authentic(chain.configured_keys())


def test_each_worker_beats_on_its_own_without_any_task(worker: Any, transactional_db: None) -> None:
    row = wait_for(
        lambda: WorkerHeartbeat.objects.filter(hostname=worker.hostname).first(),
        what="the worker's own heartbeat row",
    )
    first = row.last_beat_at
    wait_for(
        lambda: WorkerHeartbeat.objects.get(hostname=worker.hostname).last_beat_at > first,
        what="a second heartbeat of the worker",
    )
    assert not TaskRun.objects.exists()


def test_a_schedule_changed_in_the_database_is_what_beat_follows(
    worker: Any, beat: Callable[[Schedule], None]
) -> None:
    beat({"watch heartbeat": {"task": "watch.heartbeat", "schedule": 3600.0}})
    wait_for(lambda: PeriodicTask.objects.filter(name="watch heartbeat").exists(), what="row")
    # Every hour, as configured: the first run is an hour away, so nothing runs yet.
    assert not TaskRun.objects.filter(schedule="watch heartbeat").exists()

    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.create(
        name="heartbeat every second", task="watch.heartbeat", interval=every_second
    )
    run = wait_for(
        lambda: TaskRun.objects.filter(schedule="heartbeat every second").first(),
        what="a run of the schedule added at run time",
    )
    assert run.status in {RunStatus.RUNNING, RunStatus.SUCCEEDED}


def test_watch_run_sends_the_task_to_a_worker_and_prints_its_result(
    worker: Any, transactional_db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("watch_run", "heartbeat", "--wait", "15")

    out = capsys.readouterr().out
    assert "Sent watch.heartbeat" in out
    run = TaskRun.objects.get(task_id=out.split("task id ")[1].split(")")[0])
    assert run.worker in worker.hostname
    assert f"watch.heartbeat succeeded on {run.worker}" in out


@pytest.mark.django_db
def test_a_task_delivered_again_updates_its_own_run() -> None:
    """acks_late: a task whose worker died is delivered again with the same id."""
    first = start_run(task_id="t-1", task_name="watch.heartbeat", schedule="", worker="a")
    again = start_run(task_id="t-1", task_name="watch.heartbeat", schedule="", worker="b")
    finish_run(again, result={"ok": True})

    assert TaskRun.objects.count() == 1
    stored = TaskRun.objects.get()
    assert stored.pk == first.pk
    assert (stored.attempts, stored.worker, stored.status) == (2, "b", RunStatus.SUCCEEDED)


@pytest.mark.django_db
def test_a_failing_checkpoint_webhook_is_retried_then_reported(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    audit_record(
        actor=credentials.watch_actor(via="test"),
        action="test.action",
        target=Target(type="test", id="1"),
        phase=Phase.OUTCOME,
        correlation_id=uuid.uuid4(),
        outcome=Outcome.SUCCEEDED,
    )
    settings.AUDIT_CHECKPOINT_WEBHOOK_URL = "http://127.0.0.1:1/checkpoints"  # nothing listens

    with pytest.raises(CommandError, match="webhook could not be reached"):
        call_command("watch_run", "audit_checkpoint", "--here")

    run = TaskRun.objects.get(task_name="watch.audit_checkpoint")
    assert (run.status, run.attempts) == (RunStatus.FAILED, 4)  # the first try and 3 retries


@shared_task(name="tests.watch.deadline_probe", base=RecordedTask, bind=True)
def deadline_probe(self: RecordedTask) -> dict[str, Any]:
    deadline = current_deadline()
    return {"seconds": deadline.seconds if deadline else None}


@pytest.mark.django_db
def test_a_task_s_graph_work_has_the_background_deadline(settings: Any) -> None:
    settings.GRAPH_BACKGROUND_DEADLINE_SECONDS = 42

    deadline_probe.apply()

    assert TaskRun.objects.get(task_name="tests.watch.deadline_probe").result == {"seconds": 42}

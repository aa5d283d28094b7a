"""Scheduled syncs with a real worker and beat: a schedule's PeriodicTask fires, its syncs go
through `$batch` as the watch acting for the admin, a later task checks they landed, and a run
whose syncs did not land tells the alerts once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from audit.models import AuditEntry, Channel, Outcome, Phase
from audit.services import Actor
from connectors.enums import ExchangeSyncType, SyncProgress
from sandbox.models import ExchangeConnector, RequestLog
from tests.conftest import ADMIN
from tests.sandbox.factories import exchange_connector
from tests.watch.conftest import Schedule, wait_for
from tests.watch.support import sign_in_for_watch
from watch import scheduled_syncs, schedules
from watch.models import ScheduledSync, ScheduleRun, ScheduleRunOutcome
from watch.observations import ObjectKind, SweepResult, sweep_observed

MAKER = Actor(oid="maker-oid", upn="maker@sandbox.example", name="Schedule Maker", tenant_id="")


@pytest.fixture
def observed() -> Iterator[list[SweepResult]]:
    """Every SweepResult the scheduled syncs send (what h2's alert rule receives)."""
    results: list[SweepResult] = []

    def receive(sender: Any, result: SweepResult, **_: Any) -> None:
        results.append(result)

    sweep_observed.connect(receive, weak=False)
    yield results
    sweep_observed.disconnect(receive)


@pytest.fixture
def watch_on(admin_client: Client, settings: Any) -> Client:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 0.2
    settings.WATCH_SCHEDULED_SYNC_VERIFY_SECONDS = 1
    response = sign_in_for_watch(admin_client)
    assert response.status_code == 302
    return admin_client


def make_schedule(
    connectors: list[ExchangeConnector], *, name: str = "nightly", due: bool = True, **fields: Any
) -> ScheduledSync:
    """A schedule every minute (as an Admin makes it), made due now for beat: its last run a
    minute and more ago."""
    spec = schedules.ScheduleSpec(
        name=name,
        sync_type=fields.pop("sync_type", ExchangeSyncType.DELTA_SYNC),
        all_connectors=not connectors,
        connector_names={c.id: c.server_name for c in connectors},
        timezone=fields.pop("timezone", "Europe/Berlin"),
        every_minutes=1,
        **fields,
    )
    schedule = schedules.schedule_create(
        actor=MAKER, tenant_id=settings.ENTRA_TENANT_ID, tenant_name="Sandbox", spec=spec
    )
    if due:
        PeriodicTask.objects.filter(pk=schedule.periodic_task_id).update(
            last_run_at=timezone.now() - timedelta(minutes=2)
        )
    return schedule


def settled(schedule: ScheduledSync) -> ScheduleRun | None:
    return schedule.runs.exclude(outcome=ScheduleRunOutcome.PENDING).first()


def test_a_schedule_every_minute_syncs_its_connectors_through_batch_verified_and_audited(
    worker: Any, beat: Callable[[Schedule], None], watch_on: Client, observed: list[SweepResult]
) -> None:
    first, second, other = (exchange_connector(), exchange_connector(), exchange_connector())
    schedule = make_schedule([first, second])
    RequestLog.objects.all().delete()

    beat({})
    run = wait_for(lambda: settled(schedule), seconds=30, what="a verified run")

    assert run.outcome == ScheduleRunOutcome.LANDED
    assert {(e["id"], e["progress"]) for e in run.results} == {
        (first.id, SyncProgress.SYNCED),
        (second.id, SyncProgress.SYNCED),
    }
    # Both syncs in one $batch POST, nothing sent to the connector left out.
    syncs = RequestLog.objects.filter(method="POST", path__endswith="/sync")
    assert {call.path.split("/")[-2] for call in syncs} == {first.id, second.id}
    assert all(call.batch_request_id for call in syncs)
    assert RequestLog.objects.filter(method="POST", path__endswith="/$batch").count() == 1
    # lastSyncDateTime moved for the two, not for the third.
    for connector in (first, second):
        connector.refresh_from_db()
        assert connector.last_sync_date_time > run.requested_at
    other.refresh_from_db()
    assert other.sync_requested_at is None
    # Audited as the watch acting for the admin who turned it on, naming schedule and maker.
    outcomes = AuditEntry.objects.filter(action="exchangeConnector.sync", phase=Phase.OUTCOME)
    assert {(e.target_id, e.outcome, e.channel, e.actor_upn) for e in outcomes} == {
        (first.id, Outcome.SUCCEEDED, Channel.WATCH, ADMIN),
        (second.id, Outcome.SUCCEEDED, Channel.WATCH, ADMIN),
    }
    assert {e.user_agent for e in outcomes} == {
        "Connector Dashboard watch: schedule 'nightly' made by maker@sandbox.example"
    }
    # The alerts hear that it landed (so an open "did not land" incident can resolve).
    (result,) = observed
    (observation,) = result.observations
    assert (observation.kind, observation.object_id, observation.state) == (
        ObjectKind.SCHEDULED_SYNC,
        str(schedule.pk),
        "landed",
    )
    assert observation.details["not_landed"] == []
    # The run is beat's, recorded like every watch task.
    assert PeriodicTask.objects.get(pk=schedule.periodic_task_id).total_run_count >= 1


def test_a_connector_the_sandbox_refuses_to_sync_raises_one_alert_observation(
    worker: Any,
    beat: Callable[[Schedule], None],
    watch_on: Client,
    observed: list[SweepResult],
    sandbox_faults: Any,
) -> None:
    good, refused = exchange_connector(), exchange_connector()
    sandbox_faults.install(
        {
            "method": "POST",
            "path": f"/beta/deviceManagement/exchangeConnectors/{refused.id}/sync",
            "fault": "500",
        }
    )
    schedule = make_schedule([good, refused])

    beat({})
    run = wait_for(lambda: settled(schedule), seconds=30, what="a verified run")

    assert run.outcome == ScheduleRunOutcome.NOT_LANDED
    progress = {e["id"]: e["progress"] for e in run.results}
    assert progress == {good.id: SyncProgress.SYNCED, refused.id: SyncProgress.UNKNOWN}
    (entry,) = [e for e in run.results if e["id"] == refused.id]
    assert "request id" in entry["message"].lower()
    (result,) = observed
    (observation,) = result.observations
    assert (observation.kind, observation.state) == (ObjectKind.SCHEDULED_SYNC, "not_landed")
    assert observation.object_id == str(schedule.pk)
    assert observation.details["not_landed"] == [refused.server_name]
    assert result.sweep_key == f"scheduled-sync:{schedule.pk}:run:{run.pk}"
    # The refused request is audited with its outcome.
    outcome = AuditEntry.objects.get(
        action="exchangeConnector.sync", phase=Phase.OUTCOME, target_id=refused.id
    )
    assert outcome.outcome == Outcome.UNKNOWN and outcome.channel == Channel.WATCH


def test_a_paused_schedule_does_not_run(
    worker: Any, beat: Callable[[Schedule], None], watch_on: Client, observed: list[SweepResult]
) -> None:
    paused_connector, running_connector = exchange_connector(), exchange_connector()
    paused = make_schedule([paused_connector], name="paused")
    schedules.schedule_pause(actor=MAKER, schedule=paused, paused=True)
    running = make_schedule([running_connector], name="running")

    beat({})
    wait_for(lambda: settled(running), seconds=30, what="the other schedule's run")

    assert not PeriodicTask.objects.get(pk=paused.periodic_task_id).enabled
    assert not paused.runs.exists()
    paused_connector.refresh_from_db()
    assert paused_connector.sync_requested_at is None
    assert not AuditEntry.objects.filter(
        action="exchangeConnector.sync", target_id=paused_connector.id
    ).exists()
    assert [r.observations[0].object_id for r in observed] == [str(running.pk)]


# -- one run, in this thread (no worker): skips and idempotence ---------------------------------


def test_a_run_sent_before_the_pause_is_recorded_as_skipped(watch_on: Client) -> None:
    connector = exchange_connector()
    schedule = make_schedule([connector], due=False)
    schedules.schedule_pause(actor=MAKER, schedule=schedule, paused=True)

    run = scheduled_syncs.run(schedule, task_id="t-paused")

    assert (run.outcome, run.message) == (ScheduleRunOutcome.SKIPPED, "Paused.")
    assert not AuditEntry.objects.filter(action="exchangeConnector.sync").exists()


def test_a_run_inside_the_maintenance_window_is_skipped(watch_on: Client) -> None:
    connector = exchange_connector()
    schedule = make_schedule(
        [connector],
        due=False,
        window_start=time(0, 0),
        window_end=time(23, 59, 59, 999999),
        window_days=list(range(7)),
    )

    run = scheduled_syncs.run(schedule, task_id="t-window")

    assert (run.outcome, run.message) == (
        ScheduleRunOutcome.SKIPPED,
        "Inside the maintenance window.",
    )
    assert not AuditEntry.objects.filter(action="exchangeConnector.sync").exists()


@pytest.mark.parametrize(
    ("at", "inside"),
    [
        (datetime(2026, 12, 5, 21, 59, tzinfo=UTC), False),  # Sat 16:59 in New York
        (datetime(2026, 12, 5, 22, 0, tzinfo=UTC), True),  # Sat 17:00
        (datetime(2026, 12, 6, 1, 59, tzinfo=UTC), True),  # Sat 20:59
        (datetime(2026, 12, 6, 2, 0, tzinfo=UTC), False),  # Sat 21:00: the end is not inside
        (datetime(2026, 12, 4, 23, 0, tzinfo=UTC), False),  # Fri 18:00: not a window day
        (datetime(2026, 7, 4, 21, 0, tzinfo=UTC), True),  # Sat 17:00 EDT (summer time)
    ],
)
def test_the_maintenance_window_is_read_in_the_schedule_s_time_zone(
    at: datetime, inside: bool
) -> None:
    schedule = ScheduledSync(
        timezone="America/New_York",
        window_start=time(17, 0),
        window_end=time(21, 0),
        window_days=[5, 6],
    )

    assert schedules.in_window(schedule, at) is inside


def test_a_run_delivered_again_does_not_sync_twice(watch_on: Client) -> None:
    connector = exchange_connector()
    schedule = make_schedule([connector], due=False)

    first = scheduled_syncs.run(schedule, task_id="t-again")
    again = scheduled_syncs.run(schedule, task_id="t-again")

    assert first.pk == again.pk and ScheduleRun.objects.count() == 1
    assert (
        AuditEntry.objects.filter(action="exchangeConnector.sync", phase=Phase.OUTCOME).count() == 1
    )


def test_a_schedule_for_every_connector_syncs_what_the_tenant_has_at_run_time(
    watch_on: Client,
) -> None:
    schedule = make_schedule([], due=False)
    connectors = [exchange_connector(), exchange_connector()]

    run = scheduled_syncs.run(schedule, task_id="t-all")

    assert {(e["id"], e["name"]) for e in run.results} == {
        (c.id, c.server_name) for c in connectors
    }


def test_a_run_without_the_watch_s_credentials_fails_and_tells_the_alerts(
    admin_client: Client, observed: list[SweepResult]
) -> None:
    schedule = make_schedule([exchange_connector()], due=False)

    run = scheduled_syncs.run(schedule, task_id="t-off")

    assert run.outcome == ScheduleRunOutcome.FAILED
    assert "signs in for it on the watch page" in run.message
    (result,) = observed
    assert result.observations[0].state == "not_landed"


def test_a_tenant_that_refuses_the_watch_fails_the_run_and_tells_the_alerts(
    watch_on: Client, observed: list[SweepResult]
) -> None:
    schedule = make_schedule([exchange_connector()], due=False)
    ScheduledSync.objects.filter(pk=schedule.pk).update(
        tenant_id="00000000-0000-4000-8000-00000000dead", tenant_name="Gone Ltd"
    )
    schedule.refresh_from_db()

    run = scheduled_syncs.run(schedule, task_id="t-refused")

    assert run.outcome == ScheduleRunOutcome.FAILED
    assert run.message.startswith("Gone Ltd refused the watch's account a token")
    (result,) = observed
    assert result.tenant_id == "00000000-0000-4000-8000-00000000dead"
    assert result.observations[0].state == "not_landed"
    assert not AuditEntry.objects.filter(action="exchangeConnector.sync").exists()

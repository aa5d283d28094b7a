"""The alerts on the engine: sweep results sent by tasks on a real worker (some delivered twice,
as after a worker died), and two evaluations of one tenant at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from celery import shared_task
from django.db import connections

from tests.watch.alerting import group, recording_notices, sweep
from tests.watch.conftest import wait_for
from watch import incidents
from watch.models import AlertSweep, Incident, IncidentState
from watch.observations import Notice, sweep_observed


@shared_task(name="tests.watch.observe_groups", acks_late=True)
def observe_groups(number: int, states: list[str]) -> None:
    """What the sweep task does once a tenant is read: send what it saw."""
    observations = [
        group(state, f"g{index}", f"Group {index}") for index, state in enumerate(states)
    ]
    sweep_observed.send(sender=None, result=sweep(number, *observations))


@pytest.fixture
def notices() -> Iterator[list[Notice]]:
    with recording_notices() as sent:
        yield sent


def test_an_outage_seen_ten_times_on_a_worker_is_one_incident_with_one_notice_each_way(
    worker: Any, transactional_db: None, notices: list[Notice]
) -> None:
    for number in range(1, 11):
        for _ in range(2):  # each sweep delivered twice: a redone sweep sends the same key
            observe_groups.delay(number, ["down", "ok"])
    wait_for(lambda: AlertSweep.objects.count() == 10, what="ten sweeps counted", seconds=60)
    wait_for(lambda: notices, what="the opening notice")

    incident = Incident.objects.get()
    assert (incident.state, incident.seen, incident.object_name) == ("open", 10, "Group 0")

    for _ in range(2):
        observe_groups.delay(11, ["ok", "ok"])
    wait_for(lambda: len(notices) == 2, what="the recovery notice", seconds=30)
    wait_for(lambda: AlertSweep.objects.count() == 11, what="the recovery sweep counted")

    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED
    assert [(n.event, n.incident_id) for n in notices] == [
        ("opened", incident.pk),
        ("resolved", incident.pk),
    ]
    assert Incident.objects.count() == 1


def _at_once(*results: Any) -> list[incidents.Evaluation]:
    """Evaluate each result in a thread of its own, all released together."""
    barrier = threading.Barrier(len(results))
    done: list[incidents.Evaluation] = []
    errors: list[BaseException] = []

    def run(result: Any) -> None:
        try:
            barrier.wait()
            done.append(incidents.evaluate(result))
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(result,)) for result in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return done


def test_two_workers_counting_the_same_sweep_count_it_once(
    transactional_db: None, notices: list[Notice]
) -> None:
    incidents.evaluate(sweep(1, group("down")))

    evaluations = _at_once(sweep(2, group("down")), sweep(2, group("down")))

    assert sorted(e.counted for e in evaluations) == [False, True]
    incident = Incident.objects.get()
    assert (incident.state, incident.seen) == ("open", 2)
    assert [n.event for n in notices] == ["opened"]


def test_two_sweeps_of_one_tenant_at_once_open_one_incident(
    transactional_db: None, notices: list[Notice]
) -> None:
    """A sweep and a scheduled sync's result (another key) racing to create the same incident."""
    _at_once(sweep(1, group("down")), sweep(2, group("down")))

    incident = Incident.objects.get()
    assert (incident.state, incident.seen) == ("open", 2)
    assert [n.event for n in notices] == ["opened"]

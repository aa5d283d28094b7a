"""Acceptance, end to end: a real worker and beat sweep the sandbox; a scenario takes a connector
group's last active connectors down; an incident opens within two sweeps and one notification
reaches a local webhook receiver (signature verified) and a local SMTP server; ten sightings are
still one incident; recovery resolves it with one recovery notification each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from sandbox.models import Scenario
from tests.watch import e2e
from tests.watch.conftest import Schedule, wait_for
from tests.watch.receivers import Inbox, WebhookReceiver, webhook_receiver
from watch.models import Delivery, Incident, IncidentState, Sweep, SweepStatus

# Every second: a slot per tenant each second, the dispatcher each second.
FAST_SWEEPS = {"WATCH_SWEEP_INTERVAL_SECONDS": 1, "WATCH_SWEEP_DISPATCH_SECONDS": 1}
BEAT: Schedule = {"watch sweeps": {"task": "watch.dispatch_sweeps", "schedule": 1.0}}
SWEEP_WAIT = 300  # seconds: generous, the machine may be busy; nothing here is timed


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver(secret=e2e.SECRET) as running:
        yield running


def sweeps_done(*, since: Any) -> int:
    return Sweep.objects.filter(status=SweepStatus.DONE, started_at__gte=since).count()


def wait_for_sweeps(count: int, *, since: Any, what: str) -> None:
    wait_for(lambda: sweeps_done(since=since) >= count, seconds=SWEEP_WAIT, what=what)


def test_a_group_outage_is_one_incident_one_notice_each_way(
    worker: Any,
    beat: Callable[[Schedule], None],
    receiver: WebhookReceiver,
    inbox: Inbox,
) -> None:
    watched = e2e.watched_estate()
    e2e.watch_turned_on()
    e2e.groups_only()
    e2e.webhook_channel(receiver.url)
    e2e.mail_channel()
    group_id = watched.group.id

    with override_settings(**FAST_SWEEPS):
        started = timezone.now()
        beat(BEAT)
        # A healthy estate: sweeps go by and nothing is raised.
        wait_for_sweeps(2, since=started, what="two sweeps of the healthy estate")
        assert not Incident.objects.exists()

        outage_at = timezone.now()
        call_command("sandbox_scenario", "group-down", "--object", group_id, stdout=StringIO())

        incident = wait_for(
            lambda: e2e.open_incident(group_id), seconds=SWEEP_WAIT, what="the incident to open"
        )
        # Within two sweeps (the rule opens on the second bad one in a row).
        sweeps_to_open = Sweep.objects.filter(
            status=SweepStatus.DONE, started_at__gte=outage_at, started_at__lte=incident.opened_at
        ).count()
        assert 1 <= sweeps_to_open <= 2
        assert incident.severity == "critical"
        assert "has no active connector" in incident.summary

        wait_for(
            lambda: receiver.received and inbox.messages, seconds=SWEEP_WAIT, what="the notices"
        )
        (opened,) = receiver.received
        assert opened.signature_ok is True
        body = opened.json()
        assert (body["event"], body["incident_id"], body["rule"]) == (
            "opened",
            incident.pk,
            e2e.GROUP_RULE,
        )
        assert body["object_name"] == "Europe"
        (mail,) = inbox.parsed()
        assert mail["To"] == "oncall@contoso.example"
        assert "Europe" in mail["Subject"]

        # The same outage seen ten times: still the one incident, still the one notice each.
        wait_for(
            lambda: Incident.objects.get(pk=incident.pk).seen >= 10,
            seconds=SWEEP_WAIT,
            what="ten sightings of the outage",
        )
        assert [i.pk for i in e2e.group_incidents(group_id)] == [incident.pk]
        assert Incident.objects.count() == 1
        assert (len(receiver.received), len(inbox.messages)) == (1, 1)

        scenario = Scenario.objects.get(object_id=group_id)
        call_command("sandbox_scenario", "recover", str(scenario.pk), stdout=StringIO())

        resolved = wait_for(
            lambda: e2e.resolved_incident(group_id), seconds=SWEEP_WAIT, what="the recovery"
        )
        assert resolved.pk == incident.pk and resolved.resolved_at is not None
        wait_for(
            lambda: len(receiver.received) == 2 and len(inbox.messages) == 2,
            seconds=SWEEP_WAIT,
            what="the recovery notices",
        )
        recovery = receiver.received[1]
        assert recovery.signature_ok is True
        assert (recovery.json()["event"], recovery.json()["incident_id"]) == (
            "resolved",
            incident.pk,
        )
        assert "Europe" in inbox.parsed()[1]["Subject"]

        # Healthy again for a few sweeps: nothing more is raised or sent.
        wait_for_sweeps(3, since=timezone.now(), what="sweeps after the recovery")
    assert Incident.objects.get().state == IncidentState.RESOLVED
    assert (len(receiver.received), len(inbox.messages)) == (2, 2)
    assert sorted(Delivery.objects.values_list("event", "status")) == [
        ("opened", "sent"),
        ("opened", "sent"),
        ("resolved", "sent"),
        ("resolved", "sent"),
    ]

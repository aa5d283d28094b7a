"""Incidents from sweeps: rules, dedup, flap damping, one count per sweep key, resolving only on
what a sweep read in full, notices once per open and per resolve, acknowledge and snooze."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import Actor
from tests.conftest import OPERATOR
from tests.watch.alerting import TENANT, exchange, group, recording_notices, sweep
from watch import incidents
from watch.alert_rules import effective_rules
from watch.models import (
    AlertRuleSetting,
    AlertSweep,
    ChannelKind,
    Delivery,
    Incident,
    IncidentState,
    NotificationChannel,
)
from watch.observations import Notice, ObjectKind, Observation, incident_event, sweep_observed

pytestmark = pytest.mark.django_db(transaction=True)

OPERATOR_ACTOR = Actor(oid="op", upn=OPERATOR, name="Operator", tenant_id=TENANT)


@pytest.fixture
def notices() -> Iterator[list[Notice]]:
    with recording_notices() as sent:
        yield sent


def send(result: object) -> None:
    sweep_observed.send(sender=None, result=result)


def test_a_group_losing_its_last_connector_opens_one_incident_on_the_second_sweep(
    notices: list,
) -> None:
    send(sweep(1, group("down")))
    assert Incident.objects.get().state == IncidentState.PENDING
    assert notices == []

    send(sweep(2, group("down")))

    incident = Incident.objects.get()
    assert (incident.state, incident.severity, incident.rule) == (
        "open",
        "critical",
        "group_below_two",
    )
    assert "its applications are down" in incident.summary
    (notice,) = notices
    assert (notice.event, notice.incident_id, notice.object_name) == (
        "opened",
        incident.pk,
        "Europe",
    )


def test_the_same_outage_seen_ten_times_is_one_incident_and_one_notice(notices: list) -> None:
    for number in range(1, 11):
        send(sweep(number, group("down")))

    incident = Incident.objects.get()
    assert incident.seen == 10
    assert [n.event for n in notices] == ["opened"]
    # The timeline stays small: the sightings coalesce around the opening.
    assert [e["event"] for e in incident.timeline] == ["seen", "opened", "seen"]
    assert incident.timeline[-1]["count"] == 10


def test_a_flap_that_recovers_before_the_second_sweep_never_opens(notices: list) -> None:
    send(sweep(1, group("down")))
    send(sweep(2, group("ok")))
    send(sweep(3, group("down")))

    assert not Incident.objects.filter(state=IncidentState.OPEN).exists()
    assert Incident.objects.get().seen == 1  # the streak started again
    assert notices == []


def test_a_redelivered_sweep_counts_once(notices: list) -> None:
    first = sweep(1, group("down"))
    send(first)
    send(first)  # a worker died after storing; another redid the same slot

    assert Incident.objects.get().state == IncidentState.PENDING
    assert Incident.objects.get().seen == 1
    assert AlertSweep.objects.count() == 1
    assert incidents.evaluate(first).counted is False


def test_recovery_resolves_with_one_notice(notices: list) -> None:
    send(sweep(1, group("down")))
    send(sweep(2, group("down")))
    send(sweep(3, group("ok")))
    send(sweep(4, group("ok")))

    incident = Incident.objects.get()
    assert incident.state == IncidentState.RESOLVED
    assert incident.timeline[-1]["event"] == "resolved"
    assert [n.event for n in notices] == ["opened", "resolved"]
    assert notices[1].resolved_at == incident.resolved_at


def test_a_partial_read_neither_resolves_nor_forgets(notices: list) -> None:
    send(sweep(1, group("down")))
    send(sweep(2, group("down")))
    # Groups were not read in full: absent here is not gone, and "ok" is not trusted.
    partial = frozenset({ObjectKind.EXCHANGE_CONNECTOR})
    send(sweep(3, read_kinds=partial, complete=False))
    send(sweep(4, group("ok"), read_kinds=partial, complete=False))
    assert Incident.objects.get().state == IncidentState.OPEN

    send(sweep(5))  # a full read without the group: it is gone
    incident = Incident.objects.get()
    assert incident.state == IncidentState.RESOLVED
    assert incident.timeline[-1]["reason"] == "gone"
    assert [n.event for n in notices] == ["opened", "resolved"]


def test_at_risk_warns_and_going_down_escalates_the_same_incident(notices: list) -> None:
    send(sweep(1, group("at_risk")))
    send(sweep(2, group("at_risk")))
    assert Incident.objects.get().severity == "warning"
    send(sweep(3, group("down")))

    incident = Incident.objects.get()
    assert incident.severity == "critical"
    escalated = next(e for e in incident.timeline if e["event"] == "severity")
    assert (escalated["was"], escalated["now"]) == ("warning", "critical")
    assert [n.event for n in notices] == ["opened"]


@pytest.mark.parametrize(
    ("observation", "rule", "severity"),
    [
        (exchange(status="disconnected"), "exchange_disconnected", "critical"),
        (exchange(last_sync="2026-12-01T23:00:00Z"), "exchange_sync_stale", "warning"),
        (exchange(last_sync="2026-11-29T00:00:00Z"), "exchange_sync_stale", "critical"),
        (
            Observation(TENANT, ObjectKind.APP_PROXY_CONNECTOR, "c1", "AP01", "inactive"),
            "app_proxy_inactive",
            "warning",
        ),
        (
            Observation(TENANT, ObjectKind.CREDENTIAL, "watch", "Watch", "needs_sign_in"),
            "watch_needs_sign_in",
            "critical",
        ),
        (
            Observation(TENANT, ObjectKind.TENANT, TENANT, "Contoso", "unreachable"),
            "tenant_unreachable",
            "critical",
        ),
        (
            Observation(TENANT, ObjectKind.SCHEDULED_SYNC, "s1", "Nightly", "not_landed"),
            "scheduled_sync_missed",
            "warning",
        ),
    ],
)
def test_each_rule_opens_its_incident_at_its_severity(
    observation: Observation, rule: str, severity: str, notices: list
) -> None:
    send(sweep(1, observation))
    send(sweep(2, observation))

    (incident,) = Incident.objects.filter(state=IncidentState.OPEN)
    assert (incident.rule, incident.severity) == (rule, severity)
    assert [n.rule for n in notices] == [rule]


def test_a_fresh_connected_exchange_connector_raises_nothing(notices: list) -> None:
    for number in range(1, 4):
        send(sweep(number, exchange(last_sync="2026-12-03T02:00:00Z")))
    assert not Incident.objects.exists()


def test_tenant_overrides_turn_a_rule_off_and_change_its_count_and_severity(notices: list) -> None:
    now = timezone.now()
    AlertRuleSetting.objects.create(
        rule="group_below_two", tenant_id="", consecutive=3, updated_at=now, updated_by="a"
    )
    AlertRuleSetting.objects.create(
        rule="group_below_two", tenant_id=TENANT, severity="warning", updated_at=now, updated_by="a"
    )
    rules = effective_rules(TENANT)["group_below_two"]
    assert (rules.enabled, rules.consecutive, rules.severity) == (True, 3, "warning")

    for number in (1, 2):
        send(sweep(number, group("down")))
    assert notices == []
    send(sweep(3, group("down")))
    assert Incident.objects.get().severity == "warning"

    AlertRuleSetting.objects.filter(tenant_id=TENANT).update(enabled=False)
    send(sweep(4, group("down")))
    incident = Incident.objects.get()
    assert incident.state == IncidentState.RESOLVED
    assert incident.timeline[-1]["reason"] == "rule turned off"


@override_settings(WATCH_ALERT_CONSECUTIVE=1)
def test_one_sweep_opens_when_the_count_is_one(notices: list) -> None:
    send(sweep(1, group("down")))
    assert Incident.objects.get().state == IncidentState.OPEN


def test_acknowledge_and_snooze_are_recorded_and_audited(notices: list) -> None:
    send(sweep(1, group("down")))
    send(sweep(2, group("down")))
    incident = Incident.objects.get()
    until = timezone.now() + timedelta(hours=4)

    incidents.acknowledge(incident_id=incident.pk, actor=OPERATOR_ACTOR, note="on it")
    incidents.snooze(incident_id=incident.pk, actor=OPERATOR_ACTOR, until=until)

    incident.refresh_from_db()
    assert (incident.acknowledged_by, incident.snoozed_by) == (OPERATOR, OPERATOR)
    assert incident.snoozed_until == until
    assert [e["event"] for e in incident.timeline][-2:] == ["acknowledged", "snoozed"]
    actions = list(
        AuditEntry.objects.order_by("id").values_list("action", "target_id", "actor_upn")
    )
    assert actions == [
        ("incident.acknowledge", str(incident.pk), OPERATOR),
        ("incident.snooze", str(incident.pk), OPERATOR),
    ]
    # A snoozed incident still resolves by itself, and says so.
    send(sweep(3, group("ok")))
    assert [n.event for n in notices] == ["opened", "resolved"]


def test_a_resolved_incident_cannot_be_acknowledged(notices: list) -> None:
    send(sweep(1, group("down")))
    send(sweep(2, group("down")))
    send(sweep(3, group("ok")))
    incident = Incident.objects.get()

    with pytest.raises(incidents.IncidentClosed):
        incidents.acknowledge(incident_id=incident.pk, actor=OPERATOR_ACTOR)
    assert not AuditEntry.objects.exists()


def test_an_outage_after_resolving_is_a_new_incident(notices: list) -> None:
    for number, state in enumerate(["down", "down", "ok", "down", "down"], start=1):
        send(sweep(number, group(state)))

    assert list(Incident.objects.order_by("id").values_list("state", flat=True)) == [
        "resolved",
        "open",
    ]
    assert [n.event for n in notices] == ["opened", "resolved", "opened"]


def test_a_result_about_other_kinds_resolves_nothing_by_absence(notices: list[Notice]) -> None:
    """A scheduled sync's result (h5) and the credential check say nothing of the groups; a
    sweep of the connectors says nothing of the scheduled syncs."""
    missed = Observation(TENANT, ObjectKind.SCHEDULED_SYNC, "s1", "Nightly", "not_landed")
    only_syncs = frozenset({ObjectKind.SCHEDULED_SYNC})
    send(sweep(1, group("down")))
    send(sweep(2, group("down")))
    send(sweep(3, missed, read_kinds=only_syncs))
    send(sweep(4, missed, read_kinds=only_syncs))
    send(sweep(5, group("down"), read_kinds=frozenset({ObjectKind.CONNECTOR_GROUP})))
    send(sweep(6, read_kinds=frozenset()))  # nothing read in full

    assert sorted(Incident.objects.values_list("rule", "state")) == [
        ("group_below_two", "open"),
        ("scheduled_sync_missed", "open"),
    ]
    assert [n.event for n in notices] == ["opened", "opened"]


def test_the_credentials_seen_by_every_tenant_s_sweep_are_one_incident_of_the_home_tenant(
    notices: list[Notice],
) -> None:
    """Each tenant's sweep reports the watch's credentials (they belong to the home tenant);
    a customer's sweep never resolves the home tenant's other incidents."""
    customers = ["c1000000-0000-0000-0000-000000000001", "c2000000-0000-0000-0000-000000000002"]
    send(sweep(1, group("down")))
    send(sweep(2, group("down")))
    lost = Observation(TENANT, ObjectKind.CREDENTIAL, "admin-oid", "admin@x", "needs_sign_in")
    for number, customer in enumerate(customers, start=3):
        send(sweep(number, lost, tenant=customer))

    incidents_now = sorted(Incident.objects.values_list("tenant_id", "rule", "state"))
    assert incidents_now == [
        (TENANT, "group_below_two", "open"),
        (TENANT, "watch_needs_sign_in", "open"),
    ]
    back = Observation(TENANT, ObjectKind.CREDENTIAL, "admin-oid", "admin@x", "active")
    send(sweep(9, back, tenant=customers[0]))
    assert [n.event for n in notices] == ["opened", "opened", "resolved"]
    assert notices[-1].rule == "watch_needs_sign_in"


def test_a_failure_after_the_notice_undoes_the_sweep_so_its_redo_sends_it(
    notices: list[Notice],
) -> None:
    """Receivers store their work in the sweep's transaction: if it fails, nothing was counted,
    opened or announced, and the sweep done again does it all once."""
    send(sweep(1, group("down")))

    def fail(sender: object, notice: Notice, **kwargs: object) -> None:
        raise RuntimeError("the worker died here")

    incident_event.connect(fail, dispatch_uid="test-fail")
    try:
        with pytest.raises(RuntimeError):
            send(sweep(2, group("down")))
    finally:
        incident_event.disconnect(dispatch_uid="test-fail")
    assert Incident.objects.get().state == IncidentState.PENDING
    assert not AlertSweep.objects.filter(sweep_key=sweep(2).sweep_key).exists()

    send(sweep(2, group("down")))
    assert Incident.objects.get().state == IncidentState.OPEN
    assert [n.event for n in notices] == ["opened", "opened"]  # the first was rolled back


def test_a_scheduled_sync_that_misses_opens_at_once_and_another_schedule_leaves_it_open(
    notices: list[Notice],
) -> None:
    """Each run's check reports its one schedule (as the scheduled syncs send it)."""
    only_syncs = frozenset({ObjectKind.SCHEDULED_SYNC})

    def run(number: int, schedule: str, state: str) -> None:
        seen = Observation(
            TENANT, ObjectKind.SCHEDULED_SYNC, schedule, f"Nightly {schedule}", state
        )
        send(sweep(number, seen, read_kinds=only_syncs))

    run(1, "7", "not_landed")
    assert Incident.objects.get().state == IncidentState.OPEN  # the first miss
    run(2, "8", "landed")  # another schedule's run says nothing of schedule 7
    assert Incident.objects.get().state == IncidentState.OPEN
    run(3, "7", "landed")
    assert Incident.objects.get().state == IncidentState.RESOLVED
    assert [(n.event, n.object_id) for n in notices] == [("opened", "7"), ("resolved", "7")]


def test_resolved_incidents_past_the_retention_are_forgotten_with_their_deliveries(
    notices: list, settings: object
) -> None:
    for number, state in enumerate(["down", "down", "ok", "down", "down"], start=1):
        send(sweep(number, group(state)))
    resolved, still_open = Incident.objects.order_by("id")
    on_call = NotificationChannel.objects.create(name="On call", kind=ChannelKind.EMAIL)
    for incident in (resolved, still_open):
        Delivery.objects.create(channel=on_call, incident_id=incident.pk, event="opened", notice={})
    retention = timedelta(days=settings.WATCH_HISTORY_RETENTION_DAYS)

    kept = incidents.prune_resolved(now=resolved.resolved_at + retention - timedelta(minutes=1))
    forgot = incidents.prune_resolved(now=resolved.resolved_at + retention + timedelta(minutes=1))

    assert kept == {"incidents": 0, "deliveries": 0}
    assert forgot == {"incidents": 1, "deliveries": 1}
    assert list(Incident.objects.values_list("pk", flat=True)) == [still_open.pk]
    assert list(Delivery.objects.values_list("incident_id", flat=True)) == [still_open.pk]

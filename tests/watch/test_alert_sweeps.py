"""The alerts behind real sweeps of the sandbox (watch.sweeps, in this process): a group's last
active connector goes down → an incident on the second sweep, one notice; seen ten times, still
one; recovery → resolved, one notice. A revoked refresh token → "needs sign-in" at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from sandbox.models import AppProxyConnector, ConnectorGroup, ExchangeConnector, RefreshToken
from sandbox.scope import tenant_scope
from tests.tenants.conftest import HOME
from tests.watch.alerting import recording_notices
from tests.watch.support import partner_signed_in, sign_in_for_watch
from watch.models import Incident, IncidentState
from watch.observations import Notice

pytestmark = pytest.mark.django_db(transaction=True)  # notices go out on commit


@pytest.fixture
def watching(transactional_db: None) -> Client:
    return partner_signed_in(customers=1)


@pytest.fixture
def notices() -> Iterator[list[Notice]]:
    with recording_notices() as sent:
        yield sent


def sweep_home() -> None:
    call_command("watch_run", "sweep", "--tenant", HOME, "--here")


def busiest_group() -> ConnectorGroup:
    with tenant_scope(HOME):
        groups = [g for g in ConnectorGroup.objects.all() if g.members.exists()]
        return max(groups, key=lambda g: g.members.count())


def set_members(group: ConnectorGroup, status: str) -> None:
    with tenant_scope(HOME):
        AppProxyConnector.objects.filter(group=group).update(status=status)


def test_a_group_going_down_opens_one_incident_and_recovery_resolves_it(
    watching: Client, notices: list[Notice]
) -> None:
    sweep_home()
    sweep_home()
    group = busiest_group()
    down_before = set(Incident.objects.values_list("rule", "object_id"))
    assert ("group_below_two", group.id) not in down_before

    set_members(group, "inactive")
    sweep_home()
    assert not Incident.objects.filter(object_id=group.id, state=IncidentState.OPEN).exists()
    sweep_home()  # the second sweep that sees it

    incident = Incident.objects.get(rule="group_below_two", object_id=group.id)
    assert (incident.state, incident.severity) == (IncidentState.OPEN, "critical")
    assert "its applications are down" in incident.summary
    for _ in range(8):
        sweep_home()
    incident.refresh_from_db()
    assert incident.seen == 10
    assert Incident.objects.filter(rule="group_below_two", object_id=group.id).count() == 1

    set_members(group, "active")
    sweep_home()

    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED
    about_group = [(n.event, n.incident_id) for n in notices if n.object_id == group.id]
    assert about_group == [("opened", incident.pk), ("resolved", incident.pk)]
    page = watching.get(f"/watch/alerts/{incident.pk}/").content.decode()
    assert "Opened after 2 sweeps" in page and "Resolved: recovered" in page


def test_a_revoked_refresh_token_is_a_needs_sign_in_incident_until_an_admin_signs_in(
    watching: Client, notices: list[Notice]
) -> None:
    sweep_home()
    RefreshToken.objects.update(revoked_at=timezone.now())
    call_command("watch_run", "check_credentials", "--here")
    sweep_home()  # the sweep observes the lost credentials (the rule's own count: 1)

    incident = Incident.objects.get(rule="watch_needs_sign_in")
    assert (incident.state, incident.severity, incident.tenant_id) == ("open", "critical", HOME)
    assert "credentials need sign-in" in watching.get("/").content.decode()

    sign_in_for_watch(watching)
    sweep_home()

    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED
    assert [(n.event, n.rule) for n in notices if n.rule == "watch_needs_sign_in"] == [
        ("opened", "watch_needs_sign_in"),
        ("resolved", "watch_needs_sign_in"),
    ]


def test_exchange_connectors_disconnected_or_not_syncing_open_their_incidents(
    watching: Client, notices: list[Notice]
) -> None:
    with tenant_scope(HOME):
        first, second = ExchangeConnector.objects.order_by("id")[:2]
        ExchangeConnector.objects.filter(pk=first.pk).update(status="disconnected")
        ExchangeConnector.objects.filter(pk=second.pk).update(
            status="connected", last_sync_date_time=timezone.now() - timedelta(days=4)
        )
    sweep_home()
    sweep_home()

    found = dict(
        Incident.objects.filter(
            state=IncidentState.OPEN, object_kind="exchange_connector"
        ).values_list("object_id", "rule")
    )
    assert found == {first.pk: "exchange_disconnected", second.pk: "exchange_sync_stale"}
    stale = Incident.objects.get(object_id=second.pk)
    assert stale.severity == "critical"

"""The watch end to end: a sandbox estate to watch, the watch turned on, and channels that reach
local receivers. Shared by the outage test (worker and beat in threads) and the killed-worker
test (worker processes)."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client
from django.utils import timezone

from audit.services import Actor
from sandbox import estate
from sandbox.models import ConnectorGroup
from sandbox.scope import tenant_scope
from sandbox.tenant import app_proxy_connector_create, connector_group_create
from tenants.models import ManagedTenant
from tests.conftest import ADMIN, sign_in
from tests.tenants.conftest import HOME
from tests.watch.support import sign_in_for_watch
from watch import alert_rules
from watch.models import ChannelKind, Delivery, Incident, IncidentState
from watch.notifications import channels
from watch.notifications.channels import ChannelValues

SECRET = "an-end-to-end-signing-secret"
GROUP_RULE = "group_below_two"
ADMIN_ACTOR = Actor.watch(oid="", upn=ADMIN, name="Admin", tenant_id=HOME, via="e2e test")


@dataclass(frozen=True)
class Estate:
    group: ConnectorGroup
    connector_ids: tuple[str, ...]


def watched_estate() -> Estate:
    """The partner tenant alone (no customers), with one connector group of two active
    connectors and nothing else, so every incident is the scenario's."""
    estate.estate_seed(tenants=0, exchange=0, app_proxy=0, groups=0, audit_events=0)
    with tenant_scope(HOME):
        group = connector_group_create(name="Europe", region="eur")
        connectors = tuple(
            app_proxy_connector_create(machine_name=f"APPPROXY-EU{n}.contoso.local", group=group)
            for n in (1, 2)
        )
    return Estate(group, tuple(connector.id for connector in connectors))


def watch_turned_on() -> Client:
    """The admin signs in, finds the tenant, and signs in for the watch (offline access)."""
    client = sign_in(Client(), ADMIN)
    assert client.post("/tenants/discover/").status_code == 302
    sign_in_for_watch(client)
    assert list(ManagedTenant.objects.values_list("tenant_id", flat=True)) == [HOME]
    return client


def groups_only(*, consecutive: int | None = None) -> None:
    """The tenant's admin watches groups: single connectors going inactive raise nothing (the
    rules page's per-tenant override), so the group's outage is the one incident."""
    alert_rules.rule_setting_save(
        actor=ADMIN_ACTOR,
        rule="app_proxy_inactive",
        tenant_id=HOME,
        enabled=False,
        consecutive=None,
        severity="",
    )
    if consecutive is not None:
        alert_rules.rule_setting_save(
            actor=ADMIN_ACTOR,
            rule=GROUP_RULE,
            tenant_id=HOME,
            enabled=None,
            consecutive=consecutive,
            severity="",
        )


def webhook_channel(url: str) -> None:
    channels.channel_create(
        actor=ADMIN_ACTOR,
        values=ChannelValues(
            name="On-call webhook",
            kind=ChannelKind.WEBHOOK,
            tenant=None,
            enabled=True,
            recipients=[],
            url=url,
            signing_secret=SECRET,
        ),
    )


def mail_channel() -> None:
    channels.channel_create(
        actor=ADMIN_ACTOR,
        values=ChannelValues(
            name="On-call mail",
            kind=ChannelKind.EMAIL,
            tenant=None,
            enabled=True,
            recipients=["oncall@contoso.example"],
        ),
    )


def group_incidents(group_id: str) -> list[Incident]:
    return list(Incident.objects.filter(rule=GROUP_RULE, object_id=group_id).order_by("id"))


def open_incident(group_id: str) -> Incident | None:
    return next((i for i in group_incidents(group_id) if i.state == IncidentState.OPEN), None)


def resolved_incident(group_id: str) -> Incident | None:
    return next((i for i in group_incidents(group_id) if i.state == IncidentState.RESOLVED), None)


def sent(event: str) -> list[Delivery]:
    return list(Delivery.objects.filter(event=event, status="sent").order_by("id"))


def now_iso() -> str:
    return timezone.now().isoformat()

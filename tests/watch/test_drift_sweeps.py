"""Drift with a real worker: the watch's own sweep compares the home tenant with its baseline.

A move made straight against the sandbox's Graph opens a drift incident that says "changed
outside the dashboard" with before -> after; accepting resolves it at once. The same move through
the dashboard's move service opens none: the baseline follows it, audited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from audit.models import Action, AuditEntry
from audit.services import Actor
from connectors import services
from connectors.selectors import app_proxy_tenant_get
from kernel.graph_clients import graph_client_for_session
from tenants.services import home_tenant_ensure
from tests.conftest import ADMIN, consent_to, sign_in
from tests.sandbox.graph_support import ALL_SCOPES, Caller
from tests.watch.drift_support import TENANT, drift_estate
from tests.watch.support import sign_in_for_watch
from watch.drift import MEMBERSHIP
from watch.drift_baselines import baseline_of
from watch.models import DriftFinding, Incident, IncidentState

pytestmark = pytest.mark.usefixtures("worker")
PAGE = f"/t/{TENANT}/watch/drift/"
REAL_GRAPH = "https://graph.microsoft.com/beta"
APP_PROXY = "onPremisesPublishingProfiles/applicationProxy"


@pytest.fixture
def watching(transactional_db: None) -> tuple[Client, dict[str, Any]]:
    """The home tenant watched, its baseline recorded by an Admin on the drift page."""
    estate = drift_estate()
    home_tenant_ensure(tenant_id=TENANT)
    consent_to(ADMIN, [*settings.GRAPH_SCOPES, *settings.APP_PROXY_GRAPH_SCOPES])
    client = sign_in(Client(), ADMIN)
    sign_in_for_watch(client)
    assert client.post(f"{PAGE}baseline/", {"source": "graph"}).status_code == 302
    return client, estate


def sweep_now() -> None:
    call_command("watch_run", "sweep", "--tenant", TENANT, "--wait", "30")


def drift_incidents() -> list[Incident]:
    return list(Incident.objects.filter(rule="drift").order_by("id"))


def test_a_move_straight_through_graph_opens_a_drift_incident_changed_outside(
    watching: tuple[Client, dict[str, Any]], graph_token: Any
) -> None:
    client, estate = watching
    connector, east = estate["connector"], estate["east"]
    sweep_now()
    assert drift_incidents() == []
    assert f'href="/t/{TENANT}/watch/drift/">drift</a>' in client.get("/watch/").content.decode()

    moved = Caller(graph_token(ADMIN, ALL_SCOPES)).post(
        f"{APP_PROXY}/connectors/{connector.id}/memberOf/$ref",
        json={"@odata.id": f"{REAL_GRAPH}/{APP_PROXY}/connectorGroups/{east.id}"},
    )
    assert moved.status_code == 204
    sweep_now()

    (incident,) = drift_incidents()
    assert incident.state == IncidentState.OPEN
    assert (incident.object_kind, incident.object_id) == ("drift", str(connector.id))
    assert incident.summary == (
        "App Proxy connector APPPROXY-A changed outside the dashboard: "
        "Connector group Default → East."
    )
    (change,) = incident.details["changes"]
    assert (change["before_label"], change["after_label"]) == ("Default", "East")
    assert incident.details["source"] == "outside"

    # Seen again: still one incident.
    sweep_now()
    assert len(drift_incidents()) == 1
    # The connector's history has it beside the dashboard's own entries, seen by the watch.
    history = client.get(f"/t/{TENANT}/watch/history/app_proxy_connector/{connector.id}/")
    (seen,) = re.findall(r'<li data-testid="watch-change">.*?</li>', history.content.decode(), re.S)
    assert "seen by the watch" in seen and "changed outside the dashboard" in seen
    assert re.search(
        r'"drift-before">Default \(.*?</span> →\s*<span class="drift-after">East', seen
    )

    response = client.post(
        f"{PAGE}accept/", {"kind": "app_proxy_connector", "object_id": str(connector.id)}
    )
    assert response.status_code == 302
    (incident,) = drift_incidents()
    assert incident.state == IncidentState.RESOLVED
    sweep_now()
    assert [i.state for i in drift_incidents()] == [IncidentState.RESOLVED]
    assert not DriftFinding.objects.exists()


def test_the_same_move_through_the_dashboard_opens_no_incident_and_the_baseline_follows(
    watching: tuple[Client, dict[str, Any]],
) -> None:
    client, estate = watching
    graph = graph_client_for_session(client.session, scopes=settings.APP_PROXY_GRAPH_SCOPES)
    tenant = app_proxy_tenant_get(graph=graph)
    row = tenant.connector(str(estate["connector"].id))
    target = tenant.group(str(estate["east"].id))
    assert row is not None and target is not None
    connector = estate["connector"]

    services.app_proxy_connector_move(
        graph=graph,
        actor=Actor(oid="admin", upn=ADMIN, name="Admin", tenant_id=TENANT),
        connector=row.connector,
        from_group=row.group,
        to_group=target.group,
    )
    sweep_now()

    assert drift_incidents() == []
    assert not DriftFinding.objects.exists()
    baseline = baseline_of(TENANT)
    assert baseline is not None
    item = baseline.items.get(object_id=str(connector.id))
    assert item.values == {MEMBERSHIP: str(estate["east"].id)} and item.recorded_by == ADMIN
    move = AuditEntry.objects.get(action=Action.APP_PROXY_CONNECTOR_MOVE, phase="attempt")
    follow = AuditEntry.objects.get(action=Action.DRIFT_FOLLOW)
    assert follow.target_id == str(connector.id) and follow.after["audit_entries"] == [move.pk]
    assert 'data-testid="no-drift"' in client.get(PAGE).content.decode()
    # Its history shows the dashboard's own entries, and nothing as seen from elsewhere.
    history = client.get(f"/t/{TENANT}/watch/history/app_proxy_connector/{connector.id}/")
    page = history.content.decode()
    assert 'data-testid="dashboard-change"' in page and "Move App Proxy connector" in page
    assert "Baseline follows a dashboard change" in page
    assert 'data-testid="watch-change"' not in page

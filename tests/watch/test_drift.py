"""Drift: a baseline recorded by an Admin, changes found by comparing with it, each said to come
through the dashboard (its own audit log) or from outside it; accepting one moves the baseline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from audit.models import AuditEntry
from audit.services import Actor
from connectors import paths
from connectors.records import AppProxyConnector, ConnectorGroup
from connectors.services import app_proxy_connector_move
from graph.client import GraphClient
from sandbox.models import ExchangeConnector
from tests.conftest import ADMIN
from tests.sandbox import factories
from tests.watch.conftest import Schedule, wait_for
from tests.watch.support import sign_in_for_watch
from watch import credentials, drift
from watch.models import DriftBaseline, DriftFinding, DriftSource, DriftStatus
from watch.observations import SweepResult, sweep_observed

TENANT = settings.ENTRA_TENANT_ID
ADMIN_ACTOR = Actor(oid="admin-oid", upn=ADMIN, name="Ada Admin", tenant_id=TENANT)
BASE = f"/t/{TENANT}/watch/drift/"


@pytest.fixture
def graph(admin_client: Client) -> GraphClient:
    """Graph as the watch has it (the admin signed in for it)."""
    sign_in_for_watch(admin_client)
    return credentials.graph_for_watch(via="test")


@pytest.fixture
def tenant(db: None) -> dict[str, Any]:
    east = factories.connector_group(name="East", region="eur")
    west = factories.connector_group(name="West", region="nam")
    return {
        "east": east,
        "west": west,
        "a": factories.app_proxy_connector(group=east, machine_name="APP-A"),
        "b": factories.app_proxy_connector(group=east, machine_name="APP-B"),
        "c": factories.app_proxy_connector(group=west, machine_name="APP-C"),
        "exchange": factories.exchange_connector(exchange_alias="contoso"),
    }


def move_outside(graph: GraphClient, connector_id: str, group_id: str) -> None:
    """The move made straight against Graph, as PowerShell or the Entra admin center would."""
    graph.post(
        paths.app_proxy_connector_member_of_ref(connector_id),
        json={"@odata.id": graph.url_for(paths.connector_group(group_id))},
    )


def open_findings() -> dict[tuple[str, str], DriftFinding]:
    return {
        (f.object_name, f.field): f for f in DriftFinding.objects.filter(status=DriftStatus.OPEN)
    }


def test_a_move_made_directly_against_graph_is_drift_changed_outside_the_dashboard(
    graph: GraphClient, tenant: dict[str, Any]
) -> None:
    drift.record_baseline(actor=ADMIN_ACTOR, tenant_id=TENANT, graph=graph)
    assert drift.check(tenant_id=TENANT, graph=graph) == []

    move_outside(graph, tenant["a"].id, tenant["west"].id)
    drift.check(tenant_id=TENANT, graph=graph)

    found = open_findings()
    assert set(found) == {("East", "members"), ("West", "members")}
    east = found[("East", "members")]
    assert (east.before_text, east.after_text) == ("APP-A, APP-B", "APP-B")
    west = found[("West", "members")]
    assert (west.before_text, west.after_text) == ("APP-C", "APP-A, APP-C")
    assert {f.source for f in found.values()} == {DriftSource.OUTSIDE}
    assert east.get_source_display() == "Changed outside the dashboard"
    # Seen again by the next check: still one finding per field.
    drift.check(tenant_id=TENANT, graph=graph)
    assert DriftFinding.objects.count() == 2
    assert AuditEntry.objects.filter(action="driftBaseline.record", actor_upn=ADMIN).exists()


def test_the_same_move_through_the_dashboard_names_who_made_it(
    graph: GraphClient, tenant: dict[str, Any]
) -> None:
    drift.record_baseline(actor=ADMIN_ACTOR, tenant_id=TENANT, graph=graph)

    app_proxy_connector_move(
        graph=graph,
        actor=ADMIN_ACTOR,
        connector=AppProxyConnector.from_graph(
            graph.get(paths.app_proxy_connector(tenant["a"].id)).body
        ),
        from_group=ConnectorGroup.from_graph(
            graph.get(paths.connector_group(tenant["east"].id)).body
        ),
        to_group=ConnectorGroup.from_graph(
            graph.get(paths.connector_group(tenant["west"].id)).body
        ),
    )
    drift.check(tenant_id=TENANT, graph=graph)

    found = open_findings()
    assert {f.source for f in found.values()} == {DriftSource.DASHBOARD}
    assert "Ada Admin (admin@sandbox.example)" in found[("East", "members")].source_detail
    assert not DriftFinding.objects.filter(source=DriftSource.OUTSIDE).exists()


def test_a_setting_changed_outside_then_changed_back_closes_by_itself(
    graph: GraphClient, tenant: dict[str, Any]
) -> None:
    connector: ExchangeConnector = tenant["exchange"]
    drift.record_baseline(actor=ADMIN_ACTOR, tenant_id=TENANT, graph=graph)
    path = paths.exchange_connector(connector.id)

    graph.patch(path, json={"exchangeAlias": "fabrikam"})
    drift.check(tenant_id=TENANT, graph=graph)
    (finding,) = DriftFinding.objects.all()
    assert (finding.field, finding.before, finding.after) == (
        "exchangeAlias",
        "contoso",
        "fabrikam",
    )
    assert finding.source == DriftSource.OUTSIDE

    graph.patch(path, json={"exchangeAlias": "contoso"})
    assert drift.check(tenant_id=TENANT, graph=graph) == []
    finding.refresh_from_db()
    assert finding.status == DriftStatus.REVERTED


def test_accepting_a_change_moves_the_baseline_and_is_audited(
    graph: GraphClient, tenant: dict[str, Any]
) -> None:
    drift.record_baseline(actor=ADMIN_ACTOR, tenant_id=TENANT, graph=graph)
    group = factories.connector_group(name="North", region="eur")  # made outside the dashboard
    drift.check(tenant_id=TENANT, graph=graph)
    (appeared,) = DriftFinding.objects.all()
    assert (appeared.object_name, appeared.field, appeared.after_text) == (
        "North",
        "(exists)",
        "exists",
    )

    drift.accept(actor=ADMIN_ACTOR, finding=appeared)

    assert drift.check(tenant_id=TENANT, graph=graph) == []
    state = DriftBaseline.objects.get().state
    assert state[f"connector_group:{group.id}"]["fields"]["region"] == "eur"
    entry = AuditEntry.objects.get(action="driftBaseline.accept")
    assert (entry.actor_upn, entry.after["object"], entry.after["field"]) == (
        ADMIN,
        "North",
        "(exists)",
    )


# -- the pages -------------------------------------------------------------------------------


def test_an_admin_records_checks_and_accepts_on_the_page(
    graph: GraphClient, admin_client: Client, tenant: dict[str, Any]
) -> None:
    assert "No baseline yet" in admin_client.get(BASE).content.decode()
    assert admin_client.post(f"{BASE}baseline/").status_code == 302
    move_outside(graph, tenant["c"].id, tenant["east"].id)

    assert admin_client.post(f"{BASE}check/").status_code == 302
    page = admin_client.get(BASE).content.decode()
    assert "Changed outside the dashboard" in page
    assert "APP-A, APP-B → <strong>APP-A, APP-B, APP-C</strong>" in page

    finding = DriftFinding.objects.get(object_name="East")
    assert admin_client.post(f"{BASE}{finding.pk}/accept/").status_code == 302
    finding.refresh_from_db()
    assert (finding.status, finding.closed_by) == (DriftStatus.ACCEPTED, ADMIN)
    assert "accepted by admin@sandbox.example" in admin_client.get(BASE).content.decode()


@pytest.mark.parametrize("who", ["operator_client", "reader_client"])
def test_operators_and_readers_see_drift_but_do_not_change_the_baseline(
    request: pytest.FixtureRequest, graph: GraphClient, tenant: dict[str, Any], who: str
) -> None:
    drift.record_baseline(actor=ADMIN_ACTOR, tenant_id=TENANT, graph=graph)
    move_outside(graph, tenant["a"].id, tenant["west"].id)
    drift.check(tenant_id=TENANT, graph=graph)
    client: Client = request.getfixturevalue(who)

    page = client.get(BASE).content.decode()
    assert "Changed outside the dashboard" in page and "Accept" not in page
    finding = DriftFinding.objects.first()
    for url in ("baseline/", "check/", f"{finding.pk}/accept/"):
        assert client.post(f"{BASE}{url}").status_code == 403
    assert DriftFinding.objects.filter(status=DriftStatus.OPEN).count() == 2


# -- after each sweep, with a real worker -------------------------------------------------------


def test_a_sweep_of_a_tenant_with_a_baseline_has_a_worker_check_it_for_drift(
    worker: Any,
    beat: Callable[[Schedule], None],
    graph: GraphClient,
    tenant: dict[str, Any],
) -> None:
    drift.record_baseline(actor=ADMIN_ACTOR, tenant_id=TENANT, graph=graph)
    move_outside(graph, tenant["a"].id, tenant["west"].id)

    sweep_observed.send(
        sender=None,
        result=SweepResult(
            tenant_id=TENANT,
            sweep_key=f"{TENANT}:1",
            observed_at=datetime(2026, 12, 3, 12, tzinfo=UTC),
            observations=[],
        ),
    )

    found = wait_for(lambda: DriftFinding.objects.count() == 2, what="the drift check's findings")
    assert found
    assert set(open_findings()) == {("East", "members"), ("West", "members")}

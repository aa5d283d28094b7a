"""Drift: the comparison, its attribution, and a move made directly against the sandbox's Graph
versus the same move through the dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from audit.models import Action, AuditEntry
from connectors import services
from connectors.selectors import app_proxy_tenant_get
from sandbox.models import AppProxyConnector, ConnectorGroup, ExchangeConnector
from tests.conftest import ADMIN, consent_to
from tests.sandbox.graph_support import ALL_SCOPES, Caller
from tests.watch.drift_support import (
    TENANT,
    admin_actor,
    app_proxy_graph,
    drift_estate,
    exchange_graph,
    observed,
)
from watch import drift_baselines, drift_receiver
from watch.drift import (
    MEMBERSHIP,
    PRESENCE,
    changes_since,
    compare,
    seen,
    snapshot_of,
)
from watch.drift_attribution import APP_PROXY_NOTE
from watch.models import BaselineSource, DriftFinding, SeenChange
from watch.observations import ObjectKind, Observation, SweepResult, sweep_observed

EXCHANGE = ObjectKind.EXCHANGE_CONNECTOR
GROUP = ObjectKind.CONNECTOR_GROUP
CONNECTOR = ObjectKind.APP_PROXY_CONNECTOR
REAL_GRAPH = "https://graph.microsoft.com/beta"


# -- The comparison (no database) ---------------------------------------------------------------


def test_compare_names_each_changed_field_before_and_after() -> None:
    baseline = {EXCHANGE: {"c1": seen("EXCH01", {"exchangeAlias": "A", "version": "1"})}}
    now = {EXCHANGE: {"c1": seen("EXCH01", {"exchangeAlias": "B", "version": "1"})}}

    (difference,) = compare(baseline, now)

    assert difference.changes == [{"field": "exchangeAlias", "before": "A", "after": "B"}]


def test_an_object_that_went_or_appeared_is_drift() -> None:
    baseline = {GROUP: {"g1": seen("East", {"name": "East", "region": "eur"})}}
    now = {GROUP: {"g2": seen("West", {"name": "West", "region": "nam"})}}

    found = {d.object_id: d.changes for d in compare(baseline, now)}

    assert found == {
        "g1": [{"field": PRESENCE, "before": "present", "after": "absent"}],
        "g2": [{"field": PRESENCE, "before": "absent", "after": "present"}],
    }


def test_fields_or_kinds_a_sweep_did_not_report_are_not_compared() -> None:
    baseline = {
        EXCHANGE: {"c1": seen("EXCH01", {"exchangeAlias": "A", "version": "1"})},
        GROUP: {"g1": seen("East", {"name": "East", "region": "eur"})},
    }
    now = {EXCHANGE: {"c1": seen("EXCH01", {"version": "1"})}}  # no alias; groups not read

    (difference,) = compare(baseline, now)

    assert difference.object_id == "c1" and not difference.drifted


def test_a_sweep_gives_membership_from_the_groups_member_lists() -> None:
    result = SweepResult(
        tenant_id="t",
        sweep_key="t:1",
        observed_at=timezone.now(),
        observations=[
            Observation("t", GROUP, "g1", "East", "ok", {"region": "eur", "members": ["a"]}),
            Observation("t", CONNECTOR, "a", "APPPROXY-A", "active", {}),
            Observation("t", CONNECTOR, "b", "APPPROXY-B", "active", {}),
        ],
        read_kinds=frozenset({GROUP, CONNECTOR}),
    )

    read, snapshot = snapshot_of(result)

    assert read == {GROUP, CONNECTOR}
    assert snapshot[CONNECTOR]["a"]["values"] == {MEMBERSHIP: "g1"}
    assert snapshot[CONNECTOR]["b"]["values"] == {MEMBERSHIP: ""}
    assert snapshot[GROUP]["g1"]["values"] == {"name": "East", "region": "eur"}


def test_connectors_without_their_groups_read_are_not_compared() -> None:
    result = SweepResult(
        tenant_id="t",
        sweep_key="t:1",
        observed_at=timezone.now(),
        observations=[Observation("t", CONNECTOR, "a", "APPPROXY-A", "active", {})],
        read_kinds=frozenset({CONNECTOR}),
    )

    assert snapshot_of(result) == (frozenset(), {})


def test_changes_since_the_last_look() -> None:
    first = [{"field": "region", "before": "eur", "after": "nam"}]
    later = [
        {"field": "region", "before": "eur", "after": "asia"},
        {"field": "name", "before": "East", "after": "Asia"},
    ]

    assert changes_since(first, later) == [
        {"field": "region", "before": "nam", "after": "asia"},
        {"field": "name", "before": "East", "after": "Asia"},
    ]
    assert changes_since(later, []) == [
        {"field": "region", "before": "asia", "after": "eur"},
        {"field": "name", "before": "Asia", "after": "East"},
    ]


# -- Against the sandbox -------------------------------------------------------------------------


@pytest.fixture
def drift_sent() -> Iterator[list[SweepResult]]:
    """The DRIFT results the receiver sends on (what the alerts receive)."""
    sent: list[SweepResult] = []

    def keep(sender: Any, result: SweepResult, **kwargs: Any) -> None:
        if ObjectKind.DRIFT in result.read_kinds:
            sent.append(result)

    sweep_observed.connect(keep, dispatch_uid="test-drift-sent")
    yield sent
    sweep_observed.disconnect(dispatch_uid="test-drift-sent")


@pytest.fixture
def estate(db: None) -> dict[str, Any]:
    return drift_estate()


@pytest.fixture
def admin(admin_client: Client) -> Client:
    consent_to(ADMIN, [*settings.GRAPH_SCOPES, *settings.APP_PROXY_GRAPH_SCOPES])
    return admin_client


@pytest.fixture
def outside(graph_token: Any) -> Caller:
    """Someone with a real token changing the tenant straight through Graph (not the dashboard)."""
    return Caller(graph_token(ADMIN, ALL_SCOPES))


def record_baseline(admin: Client) -> None:
    drift_baselines.record(
        actor=admin_actor(),
        tenant_id=TENANT,
        tenant_name="Sandbox",
        snapshot=drift_baselines.graph_snapshot(
            exchange_graph=exchange_graph(admin), app_proxy_graph=app_proxy_graph(admin)
        ),
        source=BaselineSource.GRAPH,
    )


def compare_now(admin: Client, key: str) -> SweepResult:
    drift = drift_receiver.compare_sweep(observed(admin, key), graph=lambda: exchange_graph(admin))
    assert drift is not None
    return drift


def drifted(drift: SweepResult) -> dict[str, Observation]:
    return {o.object_id: o for o in drift.observations if o.state == "drifted"}


def test_with_nothing_changed_every_object_matches(
    admin: Client, estate: dict[str, Any], drift_sent: list[SweepResult]
) -> None:
    record_baseline(admin)

    drift = compare_now(admin, "1")

    assert drift_sent == [drift]
    assert drift.sweep_key == f"{TENANT}:1:drift"
    assert drift.read_kinds == {"drift"}
    assert {o.state for o in drift.observations} == {"matches"}
    assert len(drift.observations) == 5  # 2 groups, 2 connectors, 1 Exchange connector


def test_a_move_made_directly_against_graph_is_changed_outside_the_dashboard(
    admin: Client, estate: dict[str, Any], outside: Caller, drift_sent: list[SweepResult]
) -> None:
    record_baseline(admin)
    connector, east = estate["connector"], estate["east"]

    response = outside.post(
        f"onPremisesPublishingProfiles/applicationProxy/connectors/{connector.id}/memberOf/$ref",
        json={
            "@odata.id": f"{REAL_GRAPH}/onPremisesPublishingProfiles/applicationProxy/"
            f"connectorGroups/{east.id}"
        },
    )
    assert response.status_code == 204
    drift = compare_now(admin, "2")

    (observation,) = drifted(drift).values()
    assert observation.object_id == str(connector.id)
    assert observation.details["kind"] == CONNECTOR
    assert observation.details["source"] == "outside"
    (change,) = observation.details["changes"]
    assert change["field"] == MEMBERSHIP
    assert (change["before_label"], change["after_label"]) == ("Default", "East")
    assert (change["before"], change["after"]) == (str(estate["default"].id), str(east.id))
    assert observation.details["intune_event"] is None
    assert observation.details["intune_note"] == APP_PROXY_NOTE
    (history,) = SeenChange.objects.all()
    assert history.source == "outside" and history.changes[0]["after_label"] == "East"


def edit_alias_through_dashboard(admin: Client, exchange: Any, before: str, after: str) -> None:
    services.exchange_connector_update(
        graph=exchange_graph(admin),
        actor=admin_actor(),
        connector_id=str(exchange.id),
        changes={"exchangeAlias": (before, after)},
    )


def baseline_values(object_id: str) -> dict[str, str]:
    baseline = drift_baselines.baseline_of(TENANT)
    assert baseline is not None
    return baseline.items.get(object_id=object_id).values


def test_the_same_move_through_the_dashboard_is_no_drift_the_baseline_follows_it(
    admin: Client, estate: dict[str, Any], drift_sent: list[SweepResult]
) -> None:
    record_baseline(admin)
    graph = app_proxy_graph(admin)
    tenant = app_proxy_tenant_get(graph=graph)
    row = tenant.connector(str(estate["connector"].id))
    assert row is not None
    connector, east = estate["connector"], estate["east"]

    services.app_proxy_connector_move(
        graph=graph,
        actor=admin_actor(),
        connector=row.connector,
        from_group=row.group,
        to_group=tenant.group(str(east.id)).group,
    )
    drift = compare_now(admin, "2")

    assert drifted(drift) == {}
    assert not DriftFinding.objects.exists()
    (observation,) = [o for o in drift.observations if o.object_id == str(connector.id)]
    assert observation.state == "matches"
    assert baseline_values(str(connector.id)) == {MEMBERSHIP: str(east.id)}
    # The baseline's update is audited on the connector, naming the dashboard's own entry.
    move = AuditEntry.objects.get(action=Action.APP_PROXY_CONNECTOR_MOVE, phase="attempt")
    follow = AuditEntry.objects.get(action=Action.DRIFT_FOLLOW)
    assert (follow.target_id, follow.outcome, follow.channel) == (
        str(connector.id),
        "succeeded",
        "watch",
    )
    assert follow.before == {"baseline": {MEMBERSHIP: str(estate["default"].id)}}
    assert follow.after["baseline"] == {MEMBERSHIP: str(east.id)}
    assert follow.after["audit_entries"] == [move.pk]
    assert follow.after["changed_by"] == [ADMIN]
    assert SeenChange.objects.get().source == "dashboard"
    # The next sweep matches, and adds no second baseline update.
    assert drifted(compare_now(admin, "3")) == {}
    assert AuditEntry.objects.filter(action=Action.DRIFT_FOLLOW).count() == 1


def test_outside_and_dashboard_changes_to_one_object_drift_only_the_outside_fields(
    admin: Client, estate: dict[str, Any], outside: Caller
) -> None:
    record_baseline(admin)
    exchange = estate["exchange"]
    outside.patch(
        f"deviceManagement/exchangeConnectors/{exchange.id}", json={"serverName": "elsewhere"}
    )
    edit_alias_through_dashboard(admin, exchange, "IntuneConnector", "ViaDashboard")

    observation = drifted(compare_now(admin, "2"))[str(exchange.id)]

    assert observation.details["source"] == "outside"
    assert [(c["field"], c["after"]) for c in observation.details["changes"]] == [
        ("serverName", "elsewhere")
    ]
    values = baseline_values(str(exchange.id))
    assert values["exchangeAlias"] == "ViaDashboard" and values["serverName"] != "elsewhere"
    follow = AuditEntry.objects.get(action=Action.DRIFT_FOLLOW)
    assert [c["field"] for c in follow.after["changes"]] == ["exchangeAlias"]
    # Seen again: the same outside drift, no second baseline update.
    again = drifted(compare_now(admin, "3"))[str(exchange.id)]
    assert again.details["changes"] == observation.details["changes"]
    assert AuditEntry.objects.filter(action=Action.DRIFT_FOLLOW).count() == 1


def test_an_edit_outside_the_dashboard_names_intunes_audit_event(
    admin: Client, estate: dict[str, Any], outside: Caller
) -> None:
    record_baseline(admin)
    exchange = estate["exchange"]

    response = outside.patch(
        f"deviceManagement/exchangeConnectors/{exchange.id}", json={"exchangeAlias": "Renamed"}
    )
    assert response.status_code in (200, 204)
    drift = compare_now(admin, "2")

    observation = drifted(drift)[str(exchange.id)]
    assert observation.details["changes"] == [
        {
            "field": "exchangeAlias",
            "before": "IntuneConnector",
            "after": "Renamed",
            "source": "outside",
        }
    ]
    event = observation.details["intune_event"]
    assert event, observation.details["intune_note"]
    assert event["actor"] == ADMIN
    assert event["changes"] == [
        {"field": "exchangeAlias", "old": "IntuneConnector", "new": "Renamed"}
    ]


def test_an_older_dashboard_write_of_another_value_does_not_explain_a_change(
    admin: Client, estate: dict[str, Any], outside: Caller
) -> None:
    """A dashboard edit to the object that set another value is not this change's source."""
    record_baseline(admin)
    exchange = estate["exchange"]
    edit_alias_through_dashboard(admin, exchange, "IntuneConnector", "ViaDashboard")
    outside.patch(
        f"deviceManagement/exchangeConnectors/{exchange.id}", json={"exchangeAlias": "Elsewhere"}
    )

    observation = drifted(compare_now(admin, "2"))[str(exchange.id)]

    assert observation.details["source"] == "outside"


def test_a_redone_sweep_counts_once_and_keeps_its_attribution(
    admin: Client, estate: dict[str, Any], outside: Caller, drift_sent: list[SweepResult]
) -> None:
    record_baseline(admin)
    ExchangeConnector.objects.filter(pk=estate["exchange"].pk).update(version="17.0")
    at = timezone.now()

    first = drift_receiver.compare_sweep(
        observed(admin, "2", at), graph=lambda: exchange_graph(admin)
    )
    again = drift_receiver.compare_sweep(
        observed(admin, "2", at), graph=lambda: exchange_graph(admin)
    )

    assert first == again
    assert SeenChange.objects.count() == 1
    assert DriftFinding.objects.count() == 1


def test_the_own_drift_result_is_not_compared_again(admin: Client, estate: dict[str, Any]) -> None:
    record_baseline(admin)
    drift = compare_now(admin, "1")

    assert drift_receiver.compare_sweep(drift) is None


def test_accepting_a_drift_updates_the_baseline_audited_and_the_next_sweep_matches(
    admin: Client, estate: dict[str, Any], outside: Caller
) -> None:
    record_baseline(admin)
    group = estate["east"]
    ConnectorGroup.objects.filter(pk=group.pk).update(name="East (renamed)")
    drift = compare_now(admin, "2")
    assert set(drifted(drift)) == {str(group.id)}

    drift_baselines.accept(
        actor=admin_actor(), tenant_id=TENANT, kind=GROUP, object_id=str(group.id)
    )

    entry = AuditEntry.objects.get(action=Action.DRIFT_ACCEPT)
    assert (entry.target_type, entry.target_id) == ("connectorGroup", str(group.id))
    assert entry.before["baseline"]["name"] == "East"
    assert entry.after["baseline"]["name"] == "East (renamed)"
    assert not drifted(compare_now(admin, "3"))


def test_accepting_a_removed_object_drops_it_from_the_baseline(
    admin: Client, estate: dict[str, Any]
) -> None:
    record_baseline(admin)
    other = estate["other"]
    AppProxyConnector.objects.filter(pk=other.pk).delete()
    assert set(drifted(compare_now(admin, "2"))) == {str(other.id)}

    drift_baselines.accept(
        actor=admin_actor(), tenant_id=TENANT, kind=CONNECTOR, object_id=str(other.id)
    )

    drift = compare_now(admin, "3")
    assert not drifted(drift)
    assert str(other.id) not in {o.object_id for o in drift.observations}


def test_accepting_what_matches_is_refused(admin: Client, estate: dict[str, Any]) -> None:
    record_baseline(admin)

    with pytest.raises(drift_baselines.DriftRefusal):
        drift_baselines.accept(
            actor=admin_actor(), tenant_id=TENANT, kind=GROUP, object_id=str(estate["east"].id)
        )
    assert not AuditEntry.objects.filter(action=Action.DRIFT_ACCEPT).exists()


def test_recording_a_baseline_is_audited(admin: Client, estate: dict[str, Any]) -> None:
    record_baseline(admin)

    entry = AuditEntry.objects.get(action=Action.DRIFT_BASELINE_RECORD)
    assert entry.target_id == TENANT
    assert entry.after["objects"] == {
        "app_proxy_connector": 2,
        "connector_group": 2,
        "exchange_connector": 1,
    }
    assert entry.created_at > timezone.now() - timedelta(minutes=1)


def test_the_dashboards_own_intune_event_is_not_taken_for_a_change_from_elsewhere(
    admin: Client, estate: dict[str, Any]
) -> None:
    """A change with no Intune event of its own (here: made in the sandbox's store directly)
    is not matched to the event of the dashboard's earlier write to the same connector."""
    record_baseline(admin)
    exchange = estate["exchange"]
    edit_alias_through_dashboard(admin, exchange, "IntuneConnector", "ViaDashboard")
    ExchangeConnector.objects.filter(pk=exchange.pk).update(exchange_alias="Elsewhere")

    observation = drifted(compare_now(admin, "2"))[str(exchange.id)]

    assert observation.details["source"] == "outside"
    assert observation.details["intune_event"] is None
    assert observation.details["intune_note"] == (
        "No Intune audit event names this connector in that time."
    )


def test_each_change_seen_keeps_its_own_source(
    admin: Client, estate: dict[str, Any], outside: Caller
) -> None:
    """Changed elsewhere, then changed again through the dashboard: the history has both, each
    with its own source and before -> after from one look to the next."""
    record_baseline(admin)
    exchange = estate["exchange"]
    outside.patch(
        f"deviceManagement/exchangeConnectors/{exchange.id}", json={"exchangeAlias": "Elsewhere"}
    )
    compare_now(admin, "2")
    edit_alias_through_dashboard(admin, exchange, "Elsewhere", "Final")

    # The dashboard's write overrides the change from elsewhere: the baseline takes it.
    assert str(exchange.id) not in drifted(compare_now(admin, "3"))
    assert baseline_values(str(exchange.id))["exchangeAlias"] == "Final"
    seen = [
        (s.source, s.changes[0]["before"], s.changes[0]["after"], s.intune_event is not None)
        for s in SeenChange.objects.order_by("seen_at")
    ]
    assert seen == [
        ("outside", "IntuneConnector", "Elsewhere", True),
        ("dashboard", "Elsewhere", "Final", False),
    ]

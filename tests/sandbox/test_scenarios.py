"""Sandbox scenarios: outages at a given time and their recovery, as Graph shows them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from graph.outbound import outbound_session
from sandbox import estate, scenarios, server
from sandbox.models import ConnectorGroup, Scenario, ScenarioState
from sandbox.scope import tenant_scope
from tests.conftest import ADMIN, sign_in
from tests.sandbox import factories
from tests.sandbox.graph_support import APP_PROXY, EXCHANGE, Caller, caller
from tests.sandbox.test_tenants import customer_token

pytestmark = pytest.mark.django_db

CONTROL = f"{settings.SANDBOX_GRAPH_ORIGIN}/_sandbox/scenarios"
AUTH = {"Authorization": f"Bearer {settings.SANDBOX_FAULTS_TOKEN}"}
APP_PROXY_READ = ["https://graph.microsoft.com/Directory.ReadWrite.All"]


@pytest.fixture
def admin(graph_token: Callable[..., str]) -> Caller:
    return caller(graph_token)


@pytest.fixture(autouse=True)
def syncs_land_at_once(settings: Any) -> None:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 0


def when(text: str | None) -> datetime | None:
    return parse_datetime(text) if text else None


def exchange(admin: Caller, connector_id: str) -> dict[str, Any]:
    response = admin.get(f"{EXCHANGE}/{connector_id}")
    assert response.status_code == 200, response.text
    return response.json()


def statuses(admin: Caller, group_id: str) -> dict[str, str]:
    response = admin.get(f"{APP_PROXY}/connectorGroups/{group_id}/members")
    assert response.status_code == 200, response.text
    return {item["machineName"]: item["status"] for item in response.json()["value"]}


def control(method: str, path: str = "", **kwargs: Any) -> requests.Response:
    headers = {**AUTH, **kwargs.pop("headers", {})}
    return outbound_session().request(method, f"{CONTROL}{path}", headers=headers, **kwargs)


def pass_time(scenario: Scenario, **fields: datetime) -> None:
    """The clock moves past a scheduled time: the scenario's times move into the past instead."""
    Scenario.objects.filter(pk=scenario.pk).update(**fields)


# --- Exchange connector stops syncing --------------------------------------------------------


def test_an_exchange_connector_stops_syncing_and_recovers(admin: Caller) -> None:
    connector = factories.exchange_connector(last_sync=timezone.now())
    before = exchange(admin, connector.id)

    scenario = scenarios.create(scenarios.Request("exchange-stops-syncing", connector.id, at="-4d"))

    down = exchange(admin, connector.id)
    # It stopped four days ago: the sync recorded since then did not happen.
    assert when(down["lastSyncDateTime"]) == scenario.at
    assert down["status"] == "connected"
    # A sync is accepted and never lands: lastSyncDateTime stays, and Intune gives up on it.
    sync = admin.post(f"{EXCHANGE}/{connector.id}/sync", json={"syncType": "deltaSync"})
    assert sync.status_code == 204
    after_sync = exchange(admin, connector.id)
    assert after_sync["lastSyncDateTime"] == down["lastSyncDateTime"]
    assert after_sync["status"] == "disconnected"

    recovered = scenarios.recover(scenario.pk)

    up = exchange(admin, connector.id)
    assert up["status"] == before["status"] == "connected"
    assert when(up["lastSyncDateTime"]) == recovered.recovered_at
    # It syncs again.
    assert admin.post(f"{EXCHANGE}/{connector.id}/sync", json={"syncType": "fullSync"}).ok
    assert when(exchange(admin, connector.id)["lastSyncDateTime"]) > recovered.recovered_at


def test_a_stopped_exchange_connector_can_report_disconnected(admin: Caller) -> None:
    connector = factories.exchange_connector(last_sync=timezone.now() - timedelta(hours=2))
    last_sync = exchange(admin, connector.id)["lastSyncDateTime"]

    scenario = scenarios.create(
        scenarios.Request("exchange-stops-syncing", connector.id, disconnected=True)
    )

    down = exchange(admin, connector.id)
    assert down["status"] == "disconnected"
    # It synced before the outage began: that sync stands.
    assert down["lastSyncDateTime"] == last_sync
    listed = admin.get(EXCHANGE, params={"$filter": "status eq 'disconnected'"}).json()
    assert [item["id"] for item in listed["value"]] == [connector.id]

    scenarios.recover(scenario.pk)
    assert exchange(admin, connector.id)["status"] == "connected"


# --- App Proxy: one connector, a whole group ---------------------------------------------------


def test_an_app_proxy_connector_goes_inactive_at_its_time_and_recovers_at_its_time(
    admin: Caller,
) -> None:
    connector = factories.app_proxy_connector(machine_name="APP01")
    scenario = scenarios.create(
        scenarios.Request("app-proxy-inactive", connector.id, at="+10m", recover_at="+1h")
    )
    url = f"{APP_PROXY}/connectors/{connector.id}"
    assert scenario.state == ScenarioState.SCHEDULED
    assert admin.get(url).json()["status"] == "active"

    now = timezone.now()
    pass_time(scenario, at=now - timedelta(seconds=1))
    assert admin.get(url).json()["status"] == "inactive"
    scenario.refresh_from_db()
    assert scenario.state == ScenarioState.ACTIVE

    pass_time(scenario, recover_at=now)
    assert admin.get(url).json()["status"] == "active"
    scenario.refresh_from_db()
    assert (scenario.state, scenario.recovered_at) == (ScenarioState.RECOVERED, now)


def test_a_group_loses_every_active_connector_and_gets_them_back(admin: Caller) -> None:
    group = factories.connector_group(name="Web")
    other = factories.connector_group(name="Other")
    for name, status in (("WEB1", "active"), ("WEB2", "active"), ("WEB3", "inactive")):
        factories.app_proxy_connector(machine_name=name, group=group, status=status)
    factories.app_proxy_connector(machine_name="ELSEWHERE", group=other)

    scenario = scenarios.create(scenarios.Request("group-down", group.id))

    assert statuses(admin, group.id) == {"WEB1": "inactive", "WEB2": "inactive", "WEB3": "inactive"}
    assert statuses(admin, other.id) == {"ELSEWHERE": "active"}
    # The same through $batch, as the watch reads it.
    batch = admin.post(
        "$batch",
        json={
            "requests": [
                {"id": "1", "method": "GET", "url": f"/{APP_PROXY}/connectors"},
                {"id": "2", "method": "GET", "url": f"/{APP_PROXY}/connectorGroups/{group.id}"},
            ]
        },
    ).json()
    [connectors] = [r["body"] for r in batch["responses"] if r["id"] == "1"]
    assert sorted(c["status"] for c in connectors["value"]) == ["active", *["inactive"] * 3]

    scenarios.recover(scenario.pk)

    assert statuses(admin, group.id) == {"WEB1": "active", "WEB2": "active", "WEB3": "inactive"}


def test_a_scenario_in_a_customer_tenant_is_seen_only_there(graph_token: Any) -> None:
    estate.estate_seed(tenants=4, exchange=1, app_proxy=3, groups=1, audit_events=0)
    customer = estate.customer_id(3)
    with tenant_scope(customer):
        [group] = ConnectorGroup.objects.all()
    home_admin = caller(graph_token)
    home_before = home_admin.get(f"{APP_PROXY}/connectors").json()["value"]

    call_command(
        "sandbox_scenario",
        "group-down",
        "--tenant",
        "customer004.example",
        "--object",
        group.id,
        stdout=StringIO(),
    )

    token = customer_token(sign_in(Client(), ADMIN), customer, APP_PROXY_READ)["access_token"]
    theirs = Caller(token).get(f"{APP_PROXY}/connectorGroups/{group.id}/members").json()
    assert {item["status"] for item in theirs["value"]} == {"inactive"}
    assert home_admin.get(f"{APP_PROXY}/connectors").json()["value"] == home_before


def test_sandbox_serve_sees_a_scenario_made_by_another_process(
    sandbox_server: server.RunningSandbox, graph_token: Callable[..., str]
) -> None:
    # transactional_db: the server's threads read the database with connections of their own.
    group = factories.connector_group(name="Served")
    factories.app_proxy_connector(machine_name="SRV1", group=group)
    call_command("sandbox_scenario", "group-down", "--object", group.id, stdout=StringIO())

    response = requests.get(
        f"{sandbox_server.graph_base_url}/{APP_PROXY}/connectorGroups/{group.id}/members",
        headers={"Authorization": f"Bearer {graph_token(ADMIN, APP_PROXY_READ)}"},
        verify=str(sandbox_server.ca_file),
        timeout=10,
    )

    assert response.status_code == 200, response.text
    assert [item["status"] for item in response.json()["value"]] == ["inactive"]


# --- The command ---------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("sandbox_scenario", *args, stdout=out)
    return out.getvalue()


def test_the_command_lists_recovers_and_clears(admin: Caller) -> None:
    group = factories.connector_group(name="Cmd")
    factories.app_proxy_connector(machine_name="CMD1", group=group)
    connector = factories.exchange_connector()
    assert run("list") == "No scenarios.\n"

    made = run("group-down", "--object", group.id, "--recover-at", "+2h")
    later = run("exchange-stops-syncing", "--object", connector.id, "--at", "+1d")

    assert made.startswith("#") and f"group-down of {group.id}" in made and ": active" in made
    assert "recovers at" in made
    assert ": scheduled" in later
    listing = run("list")
    assert listing.count("\n") == 2
    first = Scenario.objects.get(kind="group-down")
    assert ": recovered" in run("recover", str(first.pk))
    assert statuses(admin, group.id) == {"CMD1": "active"}

    assert run("clear") == "Recovered the open scenarios and removed 2.\n"
    assert not Scenario.objects.exists()
    assert exchange(admin, connector.id)["status"] == "connected"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["group-down", "--object", "nope"], "object: No connector group 'nope'"),
        (["group-down", "--object", "{group}", "--tenant", "x.example"], "tenant: No sandbox"),
        (["group-down", "--object", "{group}", "--at", "tomorrow"], "at: 'tomorrow' is not"),
        (
            ["group-down", "--object", "{group}", "--at", "+1h", "--recover-at", "+10m"],
            "recover_at: The recovery must come after",
        ),
        (["app-proxy-inactive", "--object", "{group}"], "object: No app proxy connector"),
        (["recover", "999"], "id: No scenario 999"),
    ],
)
def test_the_command_says_which_argument_is_wrong(args: list[str], message: str) -> None:
    group = factories.connector_group(name="Bad")
    with pytest.raises(CommandError, match=message):
        run(*[arg.format(group=group.id) for arg in args])
    assert not Scenario.objects.exists()


def test_one_open_scenario_per_object() -> None:
    group = factories.connector_group(name="Once")
    run("group-down", "--object", group.id)
    with pytest.raises(CommandError, match="already has an open scenario"):
        run("group-down", "--object", group.id)
    run("recover", str(Scenario.objects.get().pk))
    run("group-down", "--object", group.id)  # a recovered one does not block a new one
    assert Scenario.objects.count() == 2


def test_a_scheduled_scenario_recovered_before_it_began_changes_nothing(admin: Caller) -> None:
    connector = factories.app_proxy_connector(machine_name="LATER")
    scenario = scenarios.create(scenarios.Request("app-proxy-inactive", connector.id, at="+1h"))
    recovered = scenarios.recover(scenario.pk)
    assert recovered.state == ScenarioState.RECOVERED
    pass_time(scenario, at=timezone.now() - timedelta(minutes=1))
    assert admin.get(f"{APP_PROXY}/connectors/{connector.id}").json()["status"] == "active"


# --- The control endpoint ------------------------------------------------------------------------


def test_the_control_endpoint_needs_the_fault_token() -> None:
    for method, path in (("GET", ""), ("POST", ""), ("DELETE", ""), ("POST", "/1/recover")):
        response = outbound_session().request(method, f"{CONTROL}{path}")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    wrong = control("GET", headers={"Authorization": "Bearer not-it"})
    assert wrong.status_code == 401


def test_the_control_endpoint_makes_lists_recovers_and_forgets(admin: Caller) -> None:
    connector = factories.exchange_connector()
    created = control(
        "POST",
        json={"scenario": "exchange-stops-syncing", "object": connector.id, "disconnected": True},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["scenario"], body["state"], body["disconnected"]) == (
        "exchange-stops-syncing",
        "active",
        True,
    )
    assert body["tenant"] == settings.ENTRA_TENANT_ID
    assert exchange(admin, connector.id)["status"] == "disconnected"

    assert control("GET").json()["value"] == [body]
    assert control("GET", f"/{body['id']}").json() == body

    recovered = control("POST", f"/{body['id']}/recover", json={})
    assert recovered.status_code == 200
    assert recovered.json()["state"] == "recovered"
    assert exchange(admin, connector.id)["status"] == "connected"
    again = control("POST", f"/{body['id']}/recover")
    assert again.status_code == 400 and again.json()["error"]["target"] == "id"

    assert control("DELETE", f"/{body['id']}").status_code == 204
    assert control("GET", f"/{body['id']}").status_code == 404
    assert control("POST", f"/{body['id']}/recover").status_code == 404


def test_deleting_all_scenarios_recovers_the_open_ones(admin: Caller) -> None:
    group = factories.connector_group(name="Gone")
    factories.app_proxy_connector(machine_name="G1", group=group)
    assert control("POST", json={"scenario": "group-down", "object": group.id}).ok
    assert statuses(admin, group.id) == {"G1": "inactive"}

    assert control("DELETE").status_code == 204

    assert statuses(admin, group.id) == {"G1": "active"}
    assert control("GET").json() == {"value": []}


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"object": "{group}"}, "scenario"),
        ({"scenario": "meltdown", "object": "{group}"}, "scenario"),
        ({"scenario": "group-down"}, "object"),
        ({"scenario": "group-down", "object": ""}, "object"),
        ({"scenario": "group-down", "object": 7}, "object"),
        ({"scenario": "group-down", "object": "missing"}, "object"),
        ({"scenario": "group-down", "object": "{group}", "tenant": "nowhere"}, "tenant"),
        ({"scenario": "group-down", "object": "{group}", "at": "soon"}, "at"),
        ({"scenario": "group-down", "object": "{group}", "at": 5}, "at"),
        ({"scenario": "group-down", "object": "{group}", "recover_at": "-1d"}, "recover_at"),
        ({"scenario": "group-down", "object": "{group}", "disconnected": True}, "disconnected"),
        ({"scenario": "group-down", "object": "{group}", "disconnected": "yes"}, "disconnected"),
        ({"scenario": "group-down", "object": "{group}", "when": "now"}, "when"),
        (["group-down"], "body"),
    ],
)
def test_the_control_endpoint_names_the_bad_field(body: Any, target: str) -> None:
    group = factories.connector_group(name="Field")
    if isinstance(body, dict):
        body = {k: v.format(group=group.id) if isinstance(v, str) else v for k, v in body.items()}
    response = control("POST", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["target"]) == ("BadRequest", target)
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    assert not Scenario.objects.exists()


def test_a_body_that_is_not_json_is_refused() -> None:
    response = control("POST", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["target"] == "body"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", timedelta(0)),
        ("", timedelta(0)),
        ("+10m", timedelta(minutes=10)),
        ("-3d", timedelta(days=-3)),
        ("+90s", timedelta(seconds=90)),
        ("+1.5h", timedelta(minutes=90)),
    ],
)
def test_times_relative_to_now(text: str, expected: timedelta) -> None:
    now = timezone.now()
    assert scenarios.parse_time(text, field="at", now=now) == now + expected


def test_absolute_times_are_utc_unless_they_say() -> None:
    parse = scenarios.parse_time
    assert parse("2026-12-03T03:00:00Z", field="at").isoformat() == "2026-12-03T03:00:00+00:00"
    assert parse("2026-12-03T03:00:00", field="at").isoformat() == "2026-12-03T03:00:00+00:00"
    assert parse("2026-12-03T04:00:00+01:00", field="at") == parse("2026-12-03T03:00Z", field="at")
    with pytest.raises(scenarios.ScenarioError):
        parse("2026-13-40T99:00", field="at")

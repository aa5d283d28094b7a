"""The drift page: record a baseline, see drift with its source, accept it; bad input refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from audit.models import Action, AuditEntry
from sandbox.models import AppProxyConnector, ConnectorGroup
from tests.conftest import ADMIN, OPERATOR, consent_to
from tests.watch.drift_support import TENANT, drift_estate, exchange_graph, observed
from watch import drift_receiver
from watch.models import DriftBaseline, DriftFinding

PAGE = f"/t/{TENANT}/watch/drift/"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def consented() -> None:
    for upn in (ADMIN, OPERATOR):
        consent_to(upn, [*settings.GRAPH_SCOPES, *settings.APP_PROXY_GRAPH_SCOPES])


@pytest.fixture
def estate() -> dict[str, Any]:
    return drift_estate()


def test_an_admin_records_the_baseline_from_graph(admin_client: Client, estate: Any) -> None:
    response = admin_client.post(f"{PAGE}baseline/", {"source": "graph"})

    assert response.status_code == 302
    page = admin_client.get(PAGE).content.decode()
    assert "Recorded the baseline from a fresh graph read: 5 objects" in page
    assert "Everything the sweeps saw matches the baseline." in page
    assert DriftBaseline.objects.get().items.count() == 5
    assert AuditEntry.objects.filter(action=Action.DRIFT_BASELINE_RECORD).count() == 1


def test_recording_from_the_latest_sweep_needs_a_sweep(admin_client: Client, estate: Any) -> None:
    response = admin_client.post(f"{PAGE}baseline/", {"source": "sweep"})

    assert response.status_code == 409
    assert "no sweep has seen this tenant yet" in response.content.decode()
    assert not DriftBaseline.objects.exists()

    drift_receiver.compare_sweep(observed(admin_client, "1"))
    response = admin_client.post(f"{PAGE}baseline/", {"source": "sweep"})
    assert response.status_code == 302
    assert DriftBaseline.objects.get().source == "sweep"


@pytest.mark.parametrize("source", ["", "elsewhere", "graph'--"])
def test_a_bad_source_is_refused_by_name(admin_client: Client, estate: Any, source: str) -> None:
    response = admin_client.post(f"{PAGE}baseline/", {"source": source})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was changed" in page and "Source:" in page
    assert not DriftBaseline.objects.exists()


def test_only_an_admin_records_or_accepts(operator_client: Client, estate: Any) -> None:
    assert operator_client.post(f"{PAGE}baseline/", {"source": "graph"}).status_code == 403
    assert operator_client.post(f"{PAGE}accept/", {"kind": "x"}).status_code == 403
    page = operator_client.get(PAGE).content.decode()
    assert "Record from Graph now" not in page


def test_drift_shows_each_change_and_its_source_and_accepting_clears_it(
    admin_client: Client, estate: Any
) -> None:
    admin_client.post(f"{PAGE}baseline/", {"source": "graph"})
    connector = estate["connector"]
    AppProxyConnector.objects.filter(pk=connector.pk).update(group=estate["east"])
    drift_receiver.compare_sweep(
        observed(admin_client, "2"), graph=lambda: exchange_graph(admin_client)
    )

    page = admin_client.get(PAGE).content.decode()
    assert "APPPROXY-A" in page
    assert f'"drift-before">Default ({estate["default"].id})</span> →' in page
    assert f'"drift-after">East ({estate["east"].id})</span>' in page
    assert "Changed outside the dashboard" in page
    assert "Entra&#x27;s directory audit log records them" in page

    response = admin_client.post(
        f"{PAGE}accept/", {"kind": "app_proxy_connector", "object_id": str(connector.id)}
    )
    assert response.status_code == 302
    page = admin_client.get(PAGE).content.decode()
    assert "Accepted the drift of APPPROXY-A" in page
    assert "Everything the sweeps saw matches the baseline." in page
    assert AuditEntry.objects.get(action=Action.DRIFT_ACCEPT).target_id == str(connector.id)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "tenant", "object_id": "x"}, "Drift is kept for Exchange connectors"),
        ({"kind": "connector_group", "object_id": ""}, "Name the object whose drift to accept."),
        ({"kind": "connector_group", "object_id": "x" * 256}, "at most 255 characters"),
    ],
)
def test_bad_accepts_are_refused_by_field(
    admin_client: Client, estate: Any, body: dict[str, str], message: str
) -> None:
    admin_client.post(f"{PAGE}baseline/", {"source": "graph"})
    ConnectorGroup.objects.filter(pk=estate["east"].pk).update(name="Renamed")
    drift_receiver.compare_sweep(observed(admin_client, "2"))

    response = admin_client.post(f"{PAGE}accept/", body)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert DriftFinding.objects.count() == 1
    assert not AuditEntry.objects.filter(action=Action.DRIFT_ACCEPT).exists()


def test_accepting_what_has_no_drift_says_so(admin_client: Client, estate: Any) -> None:
    admin_client.post(f"{PAGE}baseline/", {"source": "graph"})

    response = admin_client.post(
        f"{PAGE}accept/", {"kind": "connector_group", "object_id": str(estate["east"].id)}
    )

    assert response.status_code == 409
    assert "There is no drift of this object to accept" in response.content.decode()


@pytest.mark.parametrize(
    ("rule", "status", "text"),
    [
        ({"fault": "500"}, 502, "request id"),
        ({"fault": "503"}, 503, "Graph is unavailable"),
        ({"fault": "429", "retry_after": 9}, 503, "Try again in 9 seconds"),
    ],
)
def test_graph_faults_while_recording_record_nothing_and_say_why(
    admin_client: Client, estate: Any, sandbox_faults: Any, settings: Any, rule, status, text
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    sandbox_faults.install({"method": "POST", "path": "/beta/$batch", **rule})

    response = admin_client.post(f"{PAGE}baseline/", {"source": "graph"})

    assert response.status_code == status
    assert text in response.content.decode()
    assert not DriftBaseline.objects.exists()
    assert not AuditEntry.objects.filter(action=Action.DRIFT_BASELINE_RECORD).exists()

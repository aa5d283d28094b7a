"""What every sandbox Graph request goes through: faults, headers, logging, URL roots."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.sandbox.factories import exchange_connector, exchange_connectors
from tests.sandbox.graph_support import EXCHANGE, Caller, assert_graph_error, caller, logged

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(graph_token: Callable[..., str]) -> Caller:
    return caller(graph_token)


def test_an_injected_fault_is_answered_and_logged(admin: Caller, sandbox_faults: Any) -> None:
    sandbox_faults.install({"path": f"/beta/{EXCHANGE}", "fault": "429", "retry_after": 4})

    response = admin.get(EXCHANGE, headers={"client-request-id": "c0ffee00-0000-4000-8000-0000"})

    assert_graph_error(response, 429, "TooManyRequests")
    assert response.headers["Retry-After"] == "4"
    assert response.headers["x-ms-ags-diagnostic"]
    [row] = logged(EXCHANGE)
    assert (row.status, row.request_id) == (429, response.headers["request-id"])
    assert row.client_request_id == "c0ffee00-0000-4000-8000-0000"


def test_faults_come_before_authentication(sandbox_faults: Any) -> None:
    sandbox_faults.install({"path": "/beta/*", "fault": "503", "retry_after": 2})

    response = Caller(None).get(
        EXCHANGE, headers={"client-request-id": "c0ffee00-0000-4000-8000-000000000002"}
    )

    assert_graph_error(response, 503, "serviceNotAvailable")


def test_the_log_records_method_path_query_and_status(admin: Caller) -> None:
    connector = exchange_connector()

    admin.get(EXCHANGE, params={"$top": "5"})
    admin.patch(f"{EXCHANGE}/{connector.id}", json={"version": "3"})

    [listing] = logged(EXCHANGE)
    [patch] = logged(f"{EXCHANGE}/{connector.id}", method="PATCH")
    assert (listing.query, listing.status) == ("%24top=5", 200)
    assert patch.status == 200


def test_on_the_dashboards_host_links_keep_the_sandbox_prefix(admin: Caller) -> None:
    exchange_connectors(3)
    client = Client(enforce_csrf_checks=True)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {admin.token}"}

    listing = client.get(f"/sandbox/beta/{EXCHANGE}", {"$top": "2"}, **auth)
    created = client.post(
        f"/sandbox/beta/{EXCHANGE}", {"serverName": "X"}, content_type="application/json", **auth
    )

    assert listing.status_code == 200, listing.content
    body = listing.json()
    assert body["@odata.context"].startswith("http://testserver/sandbox/beta/$metadata#")
    assert body["@odata.nextLink"].startswith(f"http://testserver/sandbox/beta/{EXCHANGE}?")
    assert created.status_code == 201, created.content

"""The one fault path: the same Graph fault gets the same answer from every page and the API.

Pages answer through `kernel.middleware.FaultMiddleware`, the API through its exception handler;
both take status and message from `kernel.faults`. Each fault class is tried on an Exchange page,
an App Proxy page, the audit log's Intune page and the API: same status, same message, each naming
the Graph request id of its own request.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import ADMIN, LIMITED, consent_to
from tests.connectors.support import graph_calls
from tests.sandbox import factories

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
DIRECTORY = ["https://graph.microsoft.com/Directory.ReadWrite.All"]
REQUEST_ID = re.compile(r" Graph request id: [0-9a-f-]{36}\.")
# Graph's own error code differs by endpoint family (directory vs Intune dialect), and Intune's
# answers add their own Operation ID, one per request like the request id.
GRAPH_CODE = re.compile(r" Graph code: \w+\.| Operation ID: [0-9a-f-]{36}\.")
PAGES = {
    "Exchange page": "/exchange-connectors/",
    "App Proxy page": "/app-proxy/connectors/",
    "audit page": "/audit/intune/",
}
API = "/api/v1/exchange-connectors/"


@pytest.fixture(autouse=True)
def consented() -> None:
    for upn in (ADMIN, LIMITED):
        consent_to(upn, DIRECTORY)


def toast(response: Any) -> str:
    assert "HX-Trigger" in response, (response.status_code, response.content[:300])
    (only,) = json.loads(response["HX-Trigger"])["toasts"]["toasts"]
    assert only["level"] == "error"
    return only["message"]


def answers(client: Client, url: str, *, api: str) -> list[tuple[str, int, str]]:
    """(where, status, message) for a page (plain and htmx) and for the API."""
    seen = []
    page = client.get(url)
    text = page.content.decode()
    found = re.search(r'<p data-testid="graph-error">(.*?)</p>', text, re.S)
    assert found, f"{url}: no fault message on the page"
    seen.append((f"{url} page", page.status_code, found.group(1).replace("&#x27;", "'")))
    htmx = client.get(url, headers=HX)
    seen.append((f"{url} htmx", htmx.status_code, toast(htmx)))
    body = client.get(api).json()
    seen.append((api, client.get(api).status_code, body["message"]))
    return seen


def assert_one_answer(seen: list[tuple[str, int, str]], status: int, words: str) -> None:
    statuses = {where: code for where, code, _ in seen}
    assert set(statuses.values()) == {status}, statuses
    for where, _, message in seen:
        assert words in message, (where, message)
        assert REQUEST_ID.search(message), (where, message)
    # Apart from its own ids (and Graph's code), every answer says the very same thing.
    said = {GRAPH_CODE.sub("", REQUEST_ID.sub("", message)) for _, _, message in seen}
    assert len(said) == 1, seen


@pytest.mark.parametrize(
    ("fault", "status", "words"),
    [
        ({"fault": "429", "retry_after": 120}, 503, "Graph is throttling requests"),
        ({"fault": "503"}, 503, "Graph is unavailable right now (HTTP 503)"),
        ({"fault": "500"}, 502, "Graph is unavailable right now (HTTP 500)"),
    ],
    ids=["throttled", "unavailable", "failed"],
)
def test_a_graph_failure_gets_one_answer_on_every_page_and_the_api(
    admin_client: Client, sandbox_faults: Any, settings: Any, fault: dict, status: int, words: str
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1  # little room for retries
    factories.exchange_connector()
    sandbox_faults.install({"path": "/beta/*", **fault})

    seen = [entry for url in PAGES.values() for entry in answers(admin_client, url, api=API)]

    assert_one_answer(seen, status, words)


def test_throttling_passes_graphs_wait_on_from_pages_and_api(
    admin_client: Client, sandbox_faults: Any, settings: Any
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    sandbox_faults.install({"path": "/beta/*", "fault": "429", "retry_after": 120})

    for url in [*PAGES.values(), API]:
        assert admin_client.get(url)["Retry-After"] == "120", url
        htmx = admin_client.get(url, headers=HX)
        assert htmx["Retry-After"] == "120", url
        if url != API:  # a page or a bare toast from the same URL: caches must keep them apart
            assert "HX-Request" in htmx["Vary"], url


def test_a_missing_object_is_one_404_on_every_detail_page_and_the_api(admin_client: Client) -> None:
    missing = "00000000-0000-4000-8000-000000000404"
    seen = []
    for url, api in [
        (f"/exchange-connectors/{missing}/", f"/api/v1/exchange-connectors/{missing}/"),
        (f"/app-proxy/connectors/{missing}/", f"/api/v1/app-proxy/connectors/{missing}/"),
        (f"/audit/intune/{missing}/", f"/api/v1/exchange-connectors/{missing}/"),
    ]:
        seen += answers(admin_client, url, api=api)

    assert_one_answer(seen, 404, "Graph has no such object")


def test_a_refused_write_names_the_missing_permission_on_pages_and_api(
    signed_in_client: Any,
) -> None:
    """limited@ holds only read scopes: Graph answers 403 on every write."""
    client = signed_in_client(LIMITED)
    connector = factories.exchange_connector()
    seen = []
    page = client.post(f"/exchange-connectors/{connector.id}/sync/", {"sync_type": "deltaSync"})
    found = re.search(r'<p data-testid="graph-error">(.*?)</p>', page.content.decode(), re.S)
    assert found
    seen.append(("page", page.status_code, found.group(1).replace("&#x27;", "'")))
    htmx = client.post(
        f"/exchange-connectors/{connector.id}/sync/", {"sync_type": "deltaSync"}, headers=HX
    )
    seen.append(("htmx", htmx.status_code, toast(htmx)))
    api = client.post(
        f"/api/v1/exchange-connectors/{connector.id}/sync/",
        {"syncType": "deltaSync"},
        content_type="application/json",
    )
    seen.append(("api", api.status_code, api.json()["message"]))

    assert_one_answer(seen, 403, "your account lacks")
    assert len(graph_calls("POST")) == 3  # each tried once, and each refused by Graph


def test_a_domain_refusal_gets_one_answer_on_pages_and_api(admin_client: Client) -> None:
    """Deleting the default group: the service refuses before anything reaches Graph."""
    default = factories.connector_group(name="Default", is_default=True)
    page = admin_client.post(f"/app-proxy/groups/{default.id}/delete/", {"reason": ""})
    htmx = admin_client.post(f"/app-proxy/groups/{default.id}/delete/", headers=HX)
    api = admin_client.delete(
        f"/api/v1/app-proxy/groups/{default.id}/delete/",
        {"reason": ""},
        content_type="application/json",
    )

    assert page.status_code == htmx.status_code == api.status_code == 409
    message = api.json()["message"]
    assert "default" in message.lower()
    assert message in page.content.decode().replace("&#x27;", "'")
    assert toast(htmx) == message
    assert graph_calls("DELETE") == []


def test_tokens_refreshed_during_a_failed_request_are_kept(
    admin_client: Client, sandbox_faults: Any, settings: Any
) -> None:
    """The App Proxy token is first acquired (refresh token rotated) in a request Graph then fails
    with 503: the admin must not be sent through sign-in on the next page."""
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    rule = sandbox_faults.install({"path": "/beta/*", "fault": "503"})[0]
    assert admin_client.get("/app-proxy/connectors/").status_code == 503

    sandbox_faults.remove(rule.id)
    again = admin_client.get("/app-proxy/connectors/")

    assert again.status_code == 200

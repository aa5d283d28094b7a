"""The Graph client over a real TLS socket to `sandbox_serve` (no in-process transport)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from graph.client import GraphClient
from graph.errors import GraphNotFound, GraphUnavailable
from graph.outbound import build_outbound_session
from sandbox import server
from sandbox.tenant import exchange_connector_create
from tests.graph.conftest import EXCHANGE, RecordingTokens


@pytest.fixture(scope="module")
def certificate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox-tls")


@pytest.fixture
def served(transactional_db: None, certificate_dir: Path) -> Iterator[server.RunningSandbox]:
    # transactional_db: the server thread reads what the test committed, on its own connection.
    sandbox = server.start(certificate_dir=certificate_dir)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def tls_graph(
    served: server.RunningSandbox, graph_token: Callable[..., str], settings
) -> GraphClient:
    settings.OUTBOUND_CA_BUNDLE = str(served.ca_file)
    return GraphClient(
        RecordingTokens([graph_token()]),
        base_url=served.graph_base_url,
        session=build_outbound_session(),
    )


def test_the_client_lists_pages_and_fails_typed_over_tls(
    tls_graph: GraphClient, served: server.RunningSandbox, sandbox_faults
) -> None:
    created = {exchange_connector_create(server_name=f"EXCH{n}.contoso.local").id for n in range(5)}

    pages = list(tls_graph.iter_pages(EXCHANGE, params={"$top": 2}))
    response = pages[0].response

    assert {item["id"] for page in pages for item in page.items} == created
    assert len(pages) == 3
    assert all(page.next_link.startswith(served.graph_base_url) for page in pages[:-1])
    assert response.url.startswith("https://127.0.0.1:")
    assert uuid.UUID(response.request_id)
    assert response.client_request_id == response.headers["client-request-id"]

    with pytest.raises(GraphNotFound):
        tls_graph.get(f"{EXCHANGE}/{uuid.uuid4()}")

    connector_id = next(iter(created))
    sandbox_faults.install({"method": "POST", "path": "*", "fault": "drop"})
    with pytest.raises(GraphUnavailable) as caught:
        tls_graph.post(f"{EXCHANGE}/{connector_id}/sync", json={"syncType": "deltaSync"})
    assert caught.value.status is None

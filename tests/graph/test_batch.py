"""`$batch` through the client: chunks of 20, inner 429s retried, dependsOn, results by id."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from graph.batch import BatchRequest
from graph.client import GraphClient
from graph.errors import GraphDependencyFailed, GraphNotFound, GraphThrottled
from sandbox.models import ExchangeConnector, RequestLog
from sandbox.tenant import exchange_connector_create
from tests.graph.conftest import EXCHANGE, FakeClock, graph_requests

pytestmark = pytest.mark.django_db


def connectors(count: int) -> list[ExchangeConnector]:
    return [
        exchange_connector_create(server_name=f"EXCH{n:02}.contoso.local") for n in range(count)
    ]


def get(connector: ExchangeConnector, request_id: str | None = None) -> BatchRequest:
    return BatchRequest(
        id=request_id or connector.id, method="GET", url=f"{EXCHANGE}/{connector.id}"
    )


def sync(connector_id: str, request_id: str, depends_on: tuple[str, ...] = ()) -> BatchRequest:
    return BatchRequest(
        id=request_id,
        method="POST",
        url=f"{EXCHANGE}/{connector_id}/sync",
        body={"syncType": "deltaSync"},
        depends_on=depends_on,
    )


def test_21_requests_go_in_two_posts_and_come_back_by_id(graph: GraphClient) -> None:
    tenant = connectors(21)

    results = graph.batch([get(connector) for connector in tenant])

    assert list(results) == [connector.id for connector in tenant]
    assert all(result.ok and result.status == 200 for result in results.values())
    assert {cid: result.body["serverName"] for cid, result in results.items()} == {
        connector.id: connector.server_name for connector in tenant
    }
    assert len(graph_requests("/$batch", method="POST")) == 2


def test_an_inner_429_is_retried_with_its_own_retry_after(
    graph: GraphClient, clock: FakeClock, sandbox_faults
) -> None:
    tenant = connectors(3)
    throttled = tenant[1]
    sandbox_faults.install(
        {"method": "GET", "path": f"*/{throttled.id}", "fault": "429", "retry_after": 2, "times": 1}
    )

    results = graph.batch([get(connector) for connector in tenant])

    assert all(result.ok for result in results.values())
    assert results[throttled.id].attempts == 2
    assert results[tenant[0].id].attempts == 1
    assert clock.sleeps == [2]
    # The retry carried only the throttled request.
    batches = graph_requests("/$batch", method="POST")
    assert len(batches) == 2
    second = RequestLog.objects.filter(batch_request_id=batches[1].request_id)
    assert [row.path.rsplit("/", 1)[-1] for row in second] == [throttled.id]


def test_inner_429s_past_the_bound_are_throttled_results(
    make_graph: Callable[..., GraphClient], clock: FakeClock, sandbox_faults
) -> None:
    [connector] = connectors(1)
    sandbox_faults.install({"method": "GET", "path": "*", "fault": "429", "retry_after": 4})
    graph = make_graph(deadline_seconds=6)

    results = graph.batch([get(connector)])

    result = results[connector.id]
    assert isinstance(result.error, GraphThrottled)
    assert result.error.retry_after == 4
    assert result.status == 429
    assert clock.sleeps == [4]


def test_a_request_whose_dependency_failed_gets_424(graph: GraphClient) -> None:
    [connector] = connectors(1)

    results = graph.batch(
        [
            BatchRequest(id="missing", method="GET", url=f"{EXCHANGE}/{uuid.uuid4()}"),
            sync(connector.id, "sync", depends_on=("missing",)),
        ]
    )

    assert isinstance(results["missing"].error, GraphNotFound)
    assert results["sync"].status == 424
    assert isinstance(results["sync"].error, GraphDependencyFailed)
    connector.refresh_from_db()
    assert connector.sync_requested_at is None


def test_depends_on_runs_in_order_within_one_post(graph: GraphClient) -> None:
    tenant = connectors(20)
    first = tenant[0]
    requests = [get(connector) for connector in tenant[1:]]  # 19 independent reads
    requests += [
        BatchRequest(
            id="rename",
            method="PATCH",
            url=f"{EXCHANGE}/{first.id}",
            body={"exchangeAlias": "Renamed"},
        ),
        BatchRequest(
            id="read-back", method="GET", url=f"{EXCHANGE}/{first.id}", depends_on=("rename",)
        ),
    ]

    results = graph.batch(requests)

    assert results["read-back"].body["exchangeAlias"] == "Renamed"
    batches = graph_requests("/$batch", method="POST")
    assert len(batches) == 2  # 21 requests; the pair was not split across POSTs
    second = RequestLog.objects.filter(batch_request_id=batches[1].request_id)
    assert [row.method for row in second] == ["PATCH", "GET"]


def test_a_dependent_of_a_throttled_request_goes_again_with_it(
    graph: GraphClient, clock: FakeClock, sandbox_faults
) -> None:
    [connector] = connectors(1)
    sandbox_faults.install({"method": "PATCH", "path": "*", "fault": "429", "times": 1})

    results = graph.batch(
        [
            BatchRequest(
                id="rename",
                method="PATCH",
                url=f"{EXCHANGE}/{connector.id}",
                body={"exchangeAlias": "Again"},
            ),
            sync(connector.id, "sync", depends_on=("rename",)),
        ]
    )

    assert results["rename"].ok, results["rename"].error
    assert results["sync"].status == 204
    assert clock.sleeps == [1]
    connector.refresh_from_db()
    assert connector.exchange_alias == "Again"
    assert connector.sync_requested_at is not None


def test_a_dependency_chain_longer_than_a_batch_is_refused(graph: GraphClient) -> None:
    chain = [BatchRequest(id="0", method="GET", url=EXCHANGE)]
    chain += [
        BatchRequest(id=str(n), method="GET", url=EXCHANGE, depends_on=(str(n - 1),))
        for n in range(1, 21)
    ]

    with pytest.raises(ValueError, match="at most 20"):
        graph.batch(chain)


def fail_second_batch_post(sandbox_faults, fault: str) -> None:
    """The first `$batch` POST is served (after a 1 ms delay), the second gets `fault`."""
    sandbox_faults.install(
        {"method": "POST", "path": "/beta/$batch", "fault": "delay", "seconds": 0.001, "times": 1},
        {"method": "POST", "path": "/beta/$batch", "fault": fault, "times": 1},
    )


@pytest.mark.parametrize(
    ("fault", "status"), [("503", 503), ("500", 500), ("drop", 0), ("malformed", 200)]
)
def test_a_failed_second_post_keeps_the_first_chunks_answers(
    graph: GraphClient, sandbox_faults, fault: str, status: int
) -> None:
    items = connectors(25)
    fail_second_batch_post(sandbox_faults, fault)

    results = graph.batch(sync(c.id, c.id) for c in items)

    assert [results[c.id].status for c in items[:20]] == [204] * 20
    assert all(results[c.id].ok for c in items[:20])
    late = [results[c.id] for c in items[20:]]
    assert [result.status for result in late] == [status] * 5
    assert all(result.error is not None and result.error.write for result in late)


def test_a_later_chunk_is_still_sent_after_a_failed_one(graph: GraphClient, sandbox_faults) -> None:
    items = connectors(45)
    fail_second_batch_post(sandbox_faults, "503")

    results = graph.batch(sync(c.id, c.id) for c in items)

    assert [results[c.id].ok for c in items] == [True] * 20 + [False] * 20 + [True] * 5


def test_an_unreadable_inner_answer_is_an_error_not_a_success(
    graph: GraphClient, sandbox_faults
) -> None:
    [connector] = connectors(1)
    sandbox_faults.install({"method": "POST", "path": "*/sync", "fault": "malformed"})

    result = graph.batch([sync(connector.id, "s")])["s"]

    assert result.status == 200 and result.error is not None
    assert "unreadable" in result.error.message

"""The client's retry policy against the sandbox's injected faults."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from graph.client import GraphClient
from graph.deadline import graph_deadline
from graph.errors import GraphNotSent, GraphThrottled, GraphTimeout, GraphUnavailable
from sandbox.models import ExchangeConnector
from tests.graph.conftest import EXCHANGE, FakeClock, graph_requests

pytestmark = pytest.mark.django_db


def hits(faults) -> list[int]:
    return [rule["hits"] for rule in faults.rules()]


def test_429_with_retry_after_is_retried_once_after_waiting(
    make_graph: Callable[..., GraphClient], connector: ExchangeConnector, sandbox_faults
) -> None:
    sandbox_faults.install(
        {
            "method": "GET",
            "path": "*/exchangeConnectors",
            "fault": "429",
            "retry_after": 1,
            "times": 1,
        }
    )
    graph = make_graph(real_time=True)

    started = time.monotonic()
    response = graph.get(EXCHANGE)
    elapsed = time.monotonic() - started

    assert response.status == 200
    assert [item["id"] for item in response.value] == [connector.id]
    assert response.attempts == 2
    assert hits(sandbox_faults) == [1]
    assert elapsed >= 1.0


def test_a_429_storm_past_the_bound_says_how_long_to_wait(
    make_graph: Callable[..., GraphClient], clock: FakeClock, sandbox_faults
) -> None:
    sandbox_faults.install({"path": "*/exchangeConnectors", "fault": "429", "retry_after": 3})
    graph = make_graph(deadline_seconds=8)

    with pytest.raises(GraphThrottled) as caught:
        graph.get(EXCHANGE)

    assert clock.sleeps == [3, 3]  # a third wait and its attempt would pass the 8 s deadline
    assert caught.value.retry_after == 3
    assert caught.value.status == 429
    assert caught.value.code == "TooManyRequests"
    assert "try again in 3 s" in str(caught.value)
    assert hits(sandbox_faults) == [3]


def test_without_retry_after_the_backoff_grows_with_jitter(
    make_graph: Callable[..., GraphClient], clock: FakeClock, sandbox_faults
) -> None:
    sandbox_faults.install(
        {"path": "*/exchangeConnectors", "fault": "429", "retry_after": None, "times": 4}
    )
    graph = make_graph()

    response = graph.get(EXCHANGE)

    assert response.attempts == 5
    assert len(clock.sleeps) == 4
    for retry_number, slept in enumerate(clock.sleeps):
        ceiling = 0.5 * 2**retry_number
        assert ceiling / 2 <= slept <= ceiling


def test_a_post_answered_429_is_retried_because_graph_did_not_process_it(
    graph: GraphClient, connector: ExchangeConnector, clock: FakeClock, sandbox_faults
) -> None:
    sandbox_faults.install({"method": "POST", "path": "*/sync", "fault": "429", "times": 1})

    response = graph.post(f"{EXCHANGE}/{connector.id}/sync", json={"syncType": "deltaSync"})

    assert response.status == 204
    assert clock.sleeps == [1]
    connector.refresh_from_db()
    assert connector.sync_requested_at is not None


def test_a_get_answered_503_is_retried(
    graph: GraphClient, connector: ExchangeConnector, clock: FakeClock, sandbox_faults
) -> None:
    sandbox_faults.install({"method": "GET", "path": "*", "fault": "503", "times": 1})

    response = graph.get(f"{EXCHANGE}/{connector.id}")

    assert response.body["id"] == connector.id
    assert response.attempts == 2
    assert len(clock.sleeps) == 1


def test_a_post_answered_503_is_not_retried(
    graph: GraphClient, connector: ExchangeConnector, clock: FakeClock, sandbox_faults
) -> None:
    sandbox_faults.install({"method": "POST", "path": "*", "fault": "503", "times": 1})

    with pytest.raises(GraphUnavailable):
        graph.post(f"{EXCHANGE}/{connector.id}/sync", json={"syncType": "deltaSync"})

    assert clock.sleeps == []
    assert hits(sandbox_faults) == [1]


def test_a_503_with_retry_after_past_the_bound_is_throttling(
    make_graph: Callable[..., GraphClient], clock: FakeClock, sandbox_faults
) -> None:
    sandbox_faults.install({"method": "GET", "path": "*", "fault": "503", "retry_after": 20})
    graph = make_graph(deadline_seconds=10)

    with pytest.raises(GraphThrottled) as caught:
        graph.get(EXCHANGE)

    assert caught.value.retry_after == 20
    assert clock.sleeps == []


def test_a_patch_that_times_out_is_not_retried(
    make_graph: Callable[..., GraphClient],
    connector: ExchangeConnector,
    clock: FakeClock,
    sandbox_faults,
) -> None:
    sandbox_faults.install({"method": "PATCH", "path": "*", "fault": "delay", "seconds": 5})
    graph = make_graph(timeout=0.2)

    with pytest.raises(GraphTimeout, match="may or may not have been applied") as caught:
        graph.patch(f"{EXCHANGE}/{connector.id}", json={"exchangeAlias": "Late"})

    assert caught.value.status is None
    assert caught.value.client_request_id
    assert hits(sandbox_faults) == [1]
    assert clock.sleeps == []


def test_a_get_that_times_out_is_retried(
    make_graph: Callable[..., GraphClient],
    connector: ExchangeConnector,
    clock: FakeClock,
    sandbox_faults,
) -> None:
    sandbox_faults.install(
        {"method": "GET", "path": "*", "fault": "delay", "seconds": 5, "times": 1}
    )
    graph = make_graph(timeout=0.2)

    response = graph.get(f"{EXCHANGE}/{connector.id}")

    assert response.body["id"] == connector.id
    assert response.attempts == 2
    assert len(clock.sleeps) == 1


def test_a_dropped_get_is_retried_with_the_same_client_request_id(
    graph: GraphClient, connector: ExchangeConnector, sandbox_faults
) -> None:
    sandbox_faults.install({"method": "GET", "path": "*", "fault": "drop", "times": 1})

    response = graph.get(f"{EXCHANGE}/{connector.id}")

    assert response.attempts == 2
    logged = graph_requests(f"/exchangeConnectors/{connector.id}")
    assert {row.client_request_id for row in logged} == {response.client_request_id}


def test_an_attempts_timeout_shrinks_to_the_deadline(
    make_graph: Callable[..., GraphClient], connector: ExchangeConnector, sandbox_faults
) -> None:
    sandbox_faults.install({"method": "GET", "path": "*", "fault": "delay", "seconds": 10})
    graph = make_graph(real_time=True, deadline_seconds=1.5)

    started = time.monotonic()
    with pytest.raises(GraphTimeout) as caught:
        graph.get(f"{EXCHANGE}/{connector.id}")
    elapsed = time.monotonic() - started

    assert elapsed < 2.5  # not the 20 s outbound timeout, and no retry after it
    assert hits(sandbox_faults) == [1]
    assert "may or may not" not in str(caught.value)  # a read changes nothing


def test_a_retry_after_beyond_the_deadline_answers_at_once(
    make_graph: Callable[..., GraphClient], clock: FakeClock, sandbox_faults
) -> None:
    sandbox_faults.install({"path": "*/exchangeConnectors", "fault": "429", "retry_after": 60})
    graph = make_graph(deadline_seconds=15)

    with pytest.raises(GraphThrottled) as caught:
        graph.get(EXCHANGE)

    assert clock.sleeps == []
    assert caught.value.retry_after == 60
    assert hits(sandbox_faults) == [1]


def test_no_attempt_starts_once_the_requests_deadline_has_passed(
    graph: GraphClient, connector: ExchangeConnector, sandbox_faults
) -> None:
    with graph_deadline(0.5) as deadline:
        while deadline.remaining() > 0:
            time.sleep(0.05)
        with pytest.raises(GraphNotSent) as caught:
            graph.patch(f"{EXCHANGE}/{connector.id}", json={"exchangeAlias": "Late"})

    assert caught.value.write and caught.value.status is None
    assert graph_requests(f"/exchangeConnectors/{connector.id}", method="PATCH") == []


def test_a_request_deadline_bounds_every_call_inside_it(
    make_graph: Callable[..., GraphClient], connector: ExchangeConnector, sandbox_faults
) -> None:
    sandbox_faults.install({"path": "*", "fault": "503", "retry_after": 2})
    graph = make_graph(real_time=True)  # its own deadline: 120 s

    started = time.monotonic()
    with graph_deadline(3), pytest.raises(GraphThrottled) as caught:
        graph.get(f"{EXCHANGE}/{connector.id}")
    elapsed = time.monotonic() - started

    # One wait of 2 s fits in 3 s; a second wait and its attempt would not.
    assert hits(sandbox_faults) == [2]
    assert 2 <= elapsed < 3
    assert caught.value.retry_after == 2

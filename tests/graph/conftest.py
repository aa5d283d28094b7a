"""Fixtures for the Graph client tests: clients with real sandbox tokens, a recording clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest

from graph.client import GraphClient
from graph.retry import RetryPolicy
from sandbox.models import ExchangeConnector, RequestLog
from sandbox.tenant import exchange_connector_create

EXCHANGE = "/deviceManagement/exchangeConnectors"


@dataclass
class RecordingTokens:
    """A token provider that hands out real sandbox tokens and records how it was asked."""

    tokens: list[str]
    calls: list[bool] = field(default_factory=list)

    def __call__(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str:
        self.calls.append(force_refresh)
        return self.tokens[min(len(self.calls), len(self.tokens)) - 1]


@dataclass
class FakeClock:
    """An injected `sleep` that records the waits instead of taking them, and a clock that runs
    at real time plus the waits it did not take (so deadlines see them)."""

    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def now(self) -> float:
        return time.monotonic() + sum(self.sleeps)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_graph(graph_token: Callable[..., str], clock: FakeClock) -> Callable[..., GraphClient]:
    """A GraphClient for a demo user; the retry clock is fake unless `real_time=True`."""

    def make(upn: str = "admin@sandbox.example", *, real_time: bool = False, **kw) -> GraphClient:
        retry_kw = {k: kw.pop(k) for k in ("deadline_seconds", "max_attempts") if k in kw}
        retry = (
            RetryPolicy(**retry_kw)
            if real_time
            else RetryPolicy(sleep=clock.sleep, clock=clock.now, **retry_kw)
        )
        return GraphClient(RecordingTokens([graph_token(upn)]), retry=retry, **kw)

    return make


@pytest.fixture
def graph(make_graph: Callable[..., GraphClient]) -> GraphClient:
    return make_graph()


@pytest.fixture
def connector(db: None) -> ExchangeConnector:
    return exchange_connector_create(server_name="EXCH01.contoso.local")


def graph_requests(path_suffix: str, method: str = "GET") -> list[RequestLog]:
    """The Graph requests the sandbox logged for paths ending in `path_suffix`."""
    return list(RequestLog.objects.filter(method=method, path__endswith=path_suffix))

"""Graph's throttling limits as budgets shared by every worker on every host.

    budget = SweepBudget(tenant_id)             # the tenant's limit and the app's, together
    graph = graph_for_watch(..., meter=budget)  # each request (each one inside a $batch) is taken
                                                # from both before it is sent
    budget.calls, budget.requests               # what the sweep sent

A limit is "N requests in any S seconds" (WATCH.md: Intune 1,000 per 20 s per app per tenant;
Graph 130,000 per 10 s per app). It is counted in Django's cache, in slices of S/4 seconds: a
request is taken by adding it to the current slice and checking that the current slice and the
four before it hold at most N. Any S-second window lies within those five slices, so no window
ever holds more than N, whatever the clock's phase; the price is that a full budget frees up
only as whole slices age out. Adding first and checking after (taking it back when over) keeps
this exact under concurrency: two workers racing may both be refused, never both let through.

With REDIS_URL, the cache is Redis: `incr` is atomic across workers and hosts, so the budget is
one per tenant however many workers sweep it. Without Redis (LocMemCache) the counts live in one
process: the budget then holds within one worker process only (the development default).

A request that does not fit waits for the next slice when that is soon
(WATCH_BUDGET_MAX_WAIT_SECONDS) and within the job's Graph deadline; otherwise `BudgetExceeded`
stops it before it is sent, and the sweep is deferred (retried later), never over the limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from graph.deadline import current_deadline

SLICES = 4
PREFIX = "watch:budget"


class BudgetExceeded(Exception):
    """Sending now would go over a throttling limit; `retry_after` seconds until it may not."""

    def __init__(self, limit: Limit, retry_after: float) -> None:
        super().__init__(
            f"Graph budget {limit.name} ({limit.requests} requests per {limit.seconds:g} s) is "
            f"spent: deferred {retry_after:.1f} s."
        )
        self.limit = limit
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    """At most `requests` in any `seconds`, for every client that takes from `name`."""

    name: str
    requests: int
    seconds: float

    @property
    def slice_seconds(self) -> float:
        return self.seconds / SLICES

    def _key(self, index: int) -> str:
        return f"{PREFIX}:{self.name}:{index}"

    def try_take(self, count: int, *, now: float | None = None) -> tuple[float, str]:
        """Take `count` requests now: (0.0, the slice's key to give them back by), or (the
        seconds until a slice ages out, "") when they do not fit (nothing taken)."""
        if count > self.requests:
            raise ValueError(f"{count} requests can never fit in {self.name}'s {self.requests}.")
        now = time.time() if now is None else now
        index = math.floor(now / self.slice_seconds)
        key = self._key(index)
        # Each slice outlives the windows that can still see it.
        cache.add(key, 0, timeout=math.ceil(self.seconds * 2) + 1)
        taken = cache.incr(key, count)
        earlier = cache.get_many([self._key(index - back) for back in range(1, SLICES + 1)])
        if taken + sum(earlier.values()) <= self.requests:
            return 0.0, key
        cache.decr(key, count)
        return max((index + 1) * self.slice_seconds - now, 0.001), ""

    def used(self, *, now: float | None = None) -> int:
        """What the last window's slices hold (the budget's view, for the page and tests)."""
        now = time.time() if now is None else now
        index = math.floor(now / self.slice_seconds)
        keys = [self._key(index - back) for back in range(SLICES + 1)]
        return sum(cache.get_many(keys).values())


def tenant_limit(tenant_id: str) -> Limit:
    return Limit(
        f"tenant:{tenant_id}",
        settings.WATCH_TENANT_BUDGET_REQUESTS,
        settings.WATCH_TENANT_BUDGET_SECONDS,
    )


def app_limit() -> Limit:
    return Limit("app", settings.WATCH_APP_BUDGET_REQUESTS, settings.WATCH_APP_BUDGET_SECONDS)


class SweepBudget:
    """A `graph.client.RequestMeter` for one tenant's sweep: takes each request from the
    tenant's budget and the app's, waits briefly or raises BudgetExceeded, and counts."""

    def __init__(self, tenant_id: str) -> None:
        self.limits = (tenant_limit(tenant_id), app_limit())
        self.calls = 0  # HTTP requests sent (a $batch POST is one)
        self.requests = 0  # Graph requests counted against the limits
        self.waited = 0.0
        self._blocking = self.limits[0]

    def __call__(self, requests: int) -> None:
        while True:
            wait = self._try(requests)
            if wait == 0.0:
                self.calls += 1
                self.requests += requests
                return
            deadline = current_deadline()
            may_wait = settings.WATCH_BUDGET_MAX_WAIT_SECONDS
            if deadline is not None:
                may_wait = min(may_wait, deadline.remaining() - 1.0)
            if wait > may_wait:
                raise BudgetExceeded(self._blocking, wait)
            time.sleep(wait)
            self.waited += wait

    def _try(self, requests: int) -> float:
        """Take from every limit or from none."""
        now = time.time()
        taken: list[str] = []
        for limit in self.limits:
            wait, key = limit.try_take(requests, now=now)
            if not key:
                for done in taken:
                    cache.decr(done, requests)
                self._blocking = limit
                return wait
            taken.append(key)
        return 0.0

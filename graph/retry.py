"""When the Graph client may retry a request, and how long it waits before it does.

One policy for single requests and `$batch` calls. Its bound is a deadline (see
`graph.deadline`), not a budget of sleeps: the time spent inside attempts counts too,
each attempt's timeout shrinks to the time left, and no attempt starts that could not finish.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings

from graph.deadline import Deadline, current_deadline

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# 429 means Graph did not process the request, so it is safe to repeat for any method; 503/504
# may arrive after the work was done, so only requests that can be repeated safely go again.
THROTTLED = 429
RETRYABLE_IF_IDEMPOTENT = frozenset({503, 504})


def default_deadline() -> float:
    return float(getattr(settings, "GRAPH_BACKGROUND_DEADLINE_SECONDS", 120))


def default_timeout() -> float:
    return float(getattr(settings, "OUTBOUND_TIMEOUT_SECONDS", 20))


def is_idempotent(method: str) -> bool:
    return method.upper() in IDEMPOTENT_METHODS


def is_write(method: str) -> bool:
    return method.upper() not in SAFE_METHODS


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Graph's `Retry-After` (integer seconds; an HTTP date is accepted too), or None."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """The deadline outside a request, the backoff curve, and the clock (injectable for tests).

    `deadline_seconds` bounds a call made outside any `graph_deadline(...)` block; inside one, the
    stricter of the two holds. `min_attempt_seconds` is the least time an attempt is given (see
    `RetryBudget.floor`): with less left, it is not started.
    """

    deadline_seconds: float = field(default_factory=default_deadline)
    max_attempts: int = 10
    min_attempt_seconds: float = 1.0
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[float, float], float] = random.uniform

    def should_retry_status(self, status: int, *, idempotent: bool) -> bool:
        return status == THROTTLED or (status in RETRYABLE_IF_IDEMPOTENT and idempotent)

    def backoff(self, retry_number: int) -> float:
        """Exponential backoff with jitter (half fixed, half random, so retries spread out)."""
        ceiling = min(self.backoff_cap_seconds, self.backoff_base_seconds * 2**retry_number)
        return ceiling / 2 + self.jitter(0, ceiling / 2)

    def budget(self) -> RetryBudget:
        own = Deadline.after(self.deadline_seconds, clock=self.clock)
        return RetryBudget(self, own.earlier(current_deadline()))


class RetryBudget:
    """What one logical request (or one `send_batch`) may still do before its deadline."""

    def __init__(self, policy: RetryPolicy, deadline: Deadline) -> None:
        self.policy = policy
        self.deadline = deadline
        self.retries = 0
        self.waited = 0.0

    def remaining(self) -> float:
        return self.deadline.remaining()

    def floor(self) -> float:
        """The least time an attempt is given (a quarter of a very short deadline at most)."""
        return min(self.policy.min_attempt_seconds, self.deadline.seconds / 4)

    def can_attempt(self) -> bool:
        """Whether an attempt started now would get at least its floor of time."""
        return self.remaining() >= self.floor()

    def attempt_timeout(self, configured: float | None) -> float:
        """The attempt's timeout: the configured one, shrunk to the time left."""
        return max(0.001, min(configured or default_timeout(), self.remaining()))

    def delay_for(self, retry_after: float | None) -> float:
        return retry_after if retry_after is not None else self.policy.backoff(self.retries)

    def allows(self, delay: float) -> bool:
        """A retry after `delay`: only if the attempt after the wait can still finish in time."""
        return (
            self.retries + 1 < self.policy.max_attempts and delay + self.floor() <= self.remaining()
        )

    def wait(self, delay: float) -> None:
        self.retries += 1
        self.waited += delay
        if delay > 0:
            self.policy.sleep(delay)

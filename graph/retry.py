"""When the Graph client may retry a request, and how long it waits before it does."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# 429 means Graph did not process the request, so it is safe to repeat for any method; 503/504
# may arrive after the work was done, so only requests that can be repeated safely go again.
THROTTLED = 429
RETRYABLE_IF_IDEMPOTENT = frozenset({503, 504})


def default_max_wait() -> float:
    return float(getattr(settings, "GRAPH_RETRY_MAX_WAIT_SECONDS", 30))


def is_idempotent(method: str) -> bool:
    return method.upper() in IDEMPOTENT_METHODS


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
    """The bound on total waiting, the backoff curve, and the clock (injectable for tests)."""

    max_wait_seconds: float = field(default_factory=default_max_wait)
    max_attempts: int = 10
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = random.uniform

    def should_retry_status(self, status: int, *, idempotent: bool) -> bool:
        return status == THROTTLED or (status in RETRYABLE_IF_IDEMPOTENT and idempotent)

    def backoff(self, retry_number: int) -> float:
        """Exponential backoff with jitter (half fixed, half random, so retries spread out)."""
        ceiling = min(self.backoff_cap_seconds, self.backoff_base_seconds * 2**retry_number)
        return ceiling / 2 + self.jitter(0, ceiling / 2)

    def budget(self) -> RetryBudget:
        return RetryBudget(self)


class RetryBudget:
    """The waiting one logical request (or one $batch call) has done so far."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.retries = 0
        self.waited = 0.0

    def delay_for(self, retry_after: float | None) -> float:
        return retry_after if retry_after is not None else self.policy.backoff(self.retries)

    def allows(self, delay: float) -> bool:
        return (
            self.retries + 1 < self.policy.max_attempts
            and self.waited + delay <= self.policy.max_wait_seconds
        )

    def wait(self, delay: float) -> None:
        self.retries += 1
        self.waited += delay
        if delay > 0:
            self.policy.sleep(delay)

"""One Graph deadline per unit of work: a page or API request, or a background job.

Every Graph call made while a deadline is in force (attempts, their timeouts and the waits
between them) must end by it. A web request opens one with `graph_deadline(...)` (the kernel's
middleware does, for `GRAPH_REQUEST_DEADLINE_SECONDS`); a call made outside any (a command, a
script, later background work) gets its own deadline of the retry policy's `deadline_seconds`,
by default `GRAPH_BACKGROUND_DEADLINE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass(frozen=True)
class Deadline:
    """The moment (on `clock`) by which the Graph work must be done."""

    expires_at: float
    seconds: float
    clock: Clock = time.monotonic

    @classmethod
    def after(cls, seconds: float, *, clock: Clock = time.monotonic) -> Deadline:
        return cls(expires_at=clock() + seconds, seconds=seconds, clock=clock)

    def remaining(self) -> float:
        return max(0.0, self.expires_at - self.clock())

    def earlier(self, other: Deadline | None) -> Deadline:
        """The stricter of two deadlines (compared as time left, so clocks may differ)."""
        if other is None or self.remaining() <= other.remaining():
            return self
        return other


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "graph_deadline", default=None
)


@contextlib.contextmanager
def graph_deadline(seconds: float) -> Iterator[Deadline]:
    """Every Graph call inside the block ends within `seconds` (a tighter outer one still holds)."""
    deadline = Deadline.after(seconds).earlier(_current.get())
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def current_deadline() -> Deadline | None:
    """The deadline in force for this thread or task, if any."""
    return _current.get()

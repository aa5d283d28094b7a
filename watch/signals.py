"""The time each watch task is sent, carried in its message so its run can tell how long it
waited (the lag)."""

from __future__ import annotations

import time
from typing import Any

from celery.signals import before_task_publish

from watch.runs import SENT_AT_HEADER


@before_task_publish.connect
def stamp_sent_at(
    sender: str | None = None, headers: dict[str, Any] | None = None, **kwargs: Any
) -> None:
    if headers is not None and str(sender or "").startswith("watch."):
        headers.setdefault(SENT_AT_HEADER, time.time())

"""The watch's signal handlers: the time each watch task is sent, carried in its message so its
run can tell how long it waited (the lag); each sweep counted against the incidents and
compared with the tenant's drift baseline."""

from __future__ import annotations

import time
from typing import Any

from celery.signals import before_task_publish
from django.dispatch import receiver

from watch import incidents
from watch.drift_receiver import on_sweep_observed
from watch.observations import SweepResult, sweep_observed
from watch.runs import SENT_AT_HEADER


@before_task_publish.connect
def stamp_sent_at(
    sender: str | None = None, headers: dict[str, Any] | None = None, **kwargs: Any
) -> None:
    if headers is not None and str(sender or "").startswith("watch."):
        headers.setdefault(SENT_AT_HEADER, time.time())


# Drift: each sweep compared with the tenant's baseline (watch.drift_receiver).
sweep_observed.connect(on_sweep_observed, dispatch_uid="watch.drift")


@receiver(sweep_observed, dispatch_uid="watch.incidents")
def count_sweep(sender: object, result: SweepResult, **kwargs: Any) -> None:
    """Rules judge what the sweep saw; incidents open and resolve (`watch.incidents`)."""
    incidents.evaluate(result)

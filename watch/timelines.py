"""Reading an object's history: its timeline over a window, its uptime, drawn as small SVG bars.

A window [start, end) is cut into segments, one per state the object was in. The state at the
window's start is the first change's `previous` inside it (or, with no change, the current
state), so history older than the window is never needed. Time before an object was first seen,
or while it was gone, is unknown: it is left out of its uptime.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from watch.history import GONE
from watch.models import ObjectState, StateChange
from watch.observations import ObjectKind

# Up: the object does its job (a warning is still up); down: it does not.
GOOD = frozenset({"healthy", "active", "ok", "reachable", "landed"})
WARN = frozenset({"warning", "never", "at_risk"})
UP = GOOD | WARN
CHART_WIDTH = 1000  # the SVG's viewBox units; it scales to the width it is given
WINDOWS = (7, 30)


def tone(state: str | None) -> str:
    """The CSS class a state is drawn in (static/dashboard/app.css: `.timeline .tl-*`)."""
    if state is None or state == GONE:
        return "tl-unknown"
    if state in GOOD:
        return "tl-good"
    if state in WARN:
        return "tl-warn"
    return "tl-bad"


@dataclass(frozen=True)
class Segment:
    state: str | None  # None: not known (before first seen)
    start: datetime
    end: datetime
    x: float  # where the chart draws it, in viewBox units
    width: float

    @property
    def tone(self) -> str:
        return tone(self.state)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Timeline:
    start: datetime
    end: datetime
    segments: list[Segment]

    @property
    def uptime(self) -> float | None:
        """The share of the known time the object was up (0–1), None when none is known."""
        known = [s for s in self.segments if s.state is not None and s.state != GONE]
        total = sum(s.seconds for s in known)
        if total <= 0:
            return None
        return sum(s.seconds for s in known if s.state in UP) / total

    @property
    def uptime_percent(self) -> str:
        uptime = self.uptime
        return "—" if uptime is None else f"{uptime * 100:.2f} %"


def timeline(
    current: ObjectState, changes: Iterable[StateChange], *, start: datetime, end: datetime
) -> Timeline:
    """The object's segments in [start, end); `changes` are its changes in that window, oldest
    first."""
    changes = [c for c in changes if start <= c.at < end]
    if changes:
        first = changes[0].previous or None
    else:
        first = current.state if current.since <= start else None
    points: list[tuple[datetime, str | None]] = [(start, first)]
    points += [(change.at, change.state) for change in changes]
    span = (end - start).total_seconds() or 1.0
    segments = []
    for index, (at, state) in enumerate(points):
        until = points[index + 1][0] if index + 1 < len(points) else end
        if until <= at:
            continue
        segments.append(
            Segment(
                state=state,
                start=at,
                end=until,
                x=round((at - start).total_seconds() / span * CHART_WIDTH, 2),
                width=round((until - at).total_seconds() / span * CHART_WIDTH, 2),
            )
        )
    return Timeline(start=start, end=end, segments=segments)


@dataclass(frozen=True)
class ObjectHistory:
    """One object's page or row: its state now and its timelines (7 and 30 days)."""

    state: ObjectState
    timelines: dict[int, Timeline]

    @property
    def tone(self) -> str:
        return tone(self.state.state)

    @property
    def week(self) -> Timeline:
        return self.timelines[7]

    @property
    def month(self) -> Timeline:
        return self.timelines[30]

    @property
    def last_sync(self) -> datetime | None:
        """Exchange connectors: when the connector last synced, as the last sweep read it."""
        if self.state.kind != ObjectKind.EXCHANGE_CONNECTOR:
            return None
        value = (self.state.details or {}).get("last_sync")
        return datetime.fromisoformat(value) if value else None


def tenant_histories(tenant_id: str, *, now: datetime) -> list[ObjectHistory]:
    """Every object of the tenant the watch has seen, with its timelines (two queries)."""
    states = list(ObjectState.objects.filter(tenant_id=tenant_id))
    start = now - timedelta(days=max(WINDOWS))
    by_object: dict[tuple[str, str], list[StateChange]] = defaultdict(list)
    for change in StateChange.objects.filter(tenant_id=tenant_id, at__gte=start).order_by(
        "at", "id"
    ):
        by_object[(change.kind, change.object_id)].append(change)
    return [_history(state, by_object[(state.kind, state.object_id)], now) for state in states]


def object_history(
    tenant_id: str, kind: str, object_id: str, *, now: datetime
) -> tuple[ObjectHistory, list[StateChange]] | None:
    """One object's history and its changes in the last 30 days (newest first), or None."""
    state = ObjectState.objects.filter(tenant_id=tenant_id, kind=kind, object_id=object_id).first()
    if state is None:
        return None
    start = now - timedelta(days=max(WINDOWS))
    changes = list(
        StateChange.objects.filter(
            Q(tenant_id=tenant_id, kind=kind, object_id=object_id), at__gte=start
        ).order_by("at", "id")
    )
    return _history(state, changes, now), changes[::-1]


def _history(state: ObjectState, changes: list[StateChange], now: datetime) -> ObjectHistory:
    return ObjectHistory(
        state=state,
        timelines={
            days: timeline(state, changes, start=now - timedelta(days=days), end=now)
            for days in WINDOWS
        },
    )

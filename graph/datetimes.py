"""Graph's DateTimeOffset on the wire: read leniently, written as Graph accepts it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_graph_datetime(value: Any) -> datetime | None:
    """A Graph DateTimeOffset, or None when absent, unreadable or Intune's year-1 "never"."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.year <= 1:
        return None
    return parsed


def format_graph_datetime(value: datetime) -> str:
    """The form Graph accepts: UTC with a Z (a naive value is taken as UTC)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

"""Helpers for the connector page tests: what reached the sandbox's Graph, and seeded data."""

from __future__ import annotations

from sandbox.models import RequestLog


def graph_calls(method: str | None = None, contains: str = "") -> list[RequestLog]:
    """The Graph requests the sandbox answered (top-level and inner $batch), oldest first."""
    calls = RequestLog.objects.all()
    if method:
        calls = calls.filter(method=method)
    if contains:
        calls = calls.filter(path__contains=contains)
    return list(calls)


def forget_graph_calls() -> None:
    RequestLog.objects.all().delete()


def writes() -> list[RequestLog]:
    """The Graph writes the sandbox answered (anything but GET, $batch POSTs of reads aside)."""
    return [
        call
        for call in RequestLog.objects.exclude(method="GET")
        if not call.path.endswith("/$batch")
    ]

"""Deterministic fault injection for the sandbox's Graph (being written: see the faults helper)."""

from __future__ import annotations

from django.http import HttpResponse


def intercept(method: str, path: str, read_timeout: float | None) -> HttpResponse | None:
    """The injected answer for this Graph request, or None to serve it normally."""
    return None

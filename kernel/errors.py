"""The base of every domain refusal: a rule said no before (or instead of) a change reached Graph.

Feature apps subclass `Refusal` in their own `errors` module; the one fault path
(`kernel.faults`) answers every refusal alike — a page, an htmx toast, or the API's JSON.
"""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A change the dashboard refused; `status` is what pages and API answer (409: the object's
    state refuses it), `extra()` what the API adds to `{"message", "extra"}`."""

    status = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def extra(self) -> dict[str, Any]:
        return {}

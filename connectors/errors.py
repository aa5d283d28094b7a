"""The connector domain's refusals: a rule said no, and nothing (more) was sent to Graph.

`kernel.faults` answers them like Graph's faults: a page, an htmx toast, or the API's JSON (409).
"""

from __future__ import annotations

from typing import Any

from connectors.records import GraphRecord
from kernel.errors import Refusal


class ChangeRefused(Refusal):
    """A rule the dashboard checks before asking Graph refused the change; nothing was sent."""


class EditConflict(Refusal):
    """The object changed in Graph since the form was opened, on fields the admin changed."""

    def __init__(self, current: GraphRecord, fields: dict[str, tuple[Any, Any, Any]]) -> None:
        super().__init__("The object changed in Graph since the form was opened.")
        self.current = current
        # property → (value when the form was opened, value in Graph now, the admin's value)
        self.fields = fields

    def extra(self) -> dict[str, Any]:
        return {
            "fields": {
                name: {"expected": opened, "in_graph": now, "yours": new}
                for name, (opened, now, new) in self.fields.items()
            }
        }

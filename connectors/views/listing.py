"""What the connector lists share: sortable column headers and query strings that keep the state.

A list's whole state (search, filters, sort, page) lives in the query string, so every link is
shareable and works without JavaScript; htmx only swaps the results in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.http import QueryDict


@dataclass(frozen=True)
class SortColumn:
    """A column header: its label and the query string of the list sorted by it."""

    label: str
    query: str
    current: bool
    descending: bool


def sort_columns(
    state: QueryDict, columns: Sequence[tuple[str, str]], sort: str
) -> list[SortColumn]:
    """Each (key, label) column links to the list sorted by it (again: the other direction)."""
    current, descending = sort.lstrip("-"), sort.startswith("-")
    headers = []
    for key, label in columns:
        query = state.copy()
        query.pop("page", None)
        query.pop("format", None)
        query["sort"] = f"-{key}" if key == current and not descending else key
        headers.append(SortColumn(label, query.urlencode(), key == current, descending))
    return headers


def query_without(state: QueryDict, *names: str) -> str:
    """The list's query string without `names` (e.g. to build page and CSV links on it)."""
    query = state.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()

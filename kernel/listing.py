"""What every list page shares: sortable column headers and query strings that keep the state.

A list's whole state (search, filters, sort, page) lives in the query string, so every link is
shareable and works without JavaScript; htmx only swaps the results in place.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, QueryDict
from django.template.defaultfilters import pluralize


@dataclass(frozen=True)
class SortColumn:
    """A column header: its label and the query string of the list sorted by it ("": the column
    does not sort)."""

    label: str
    query: str = ""
    current: bool = False
    descending: bool = False

    @property
    def aria_sort(self) -> str:
        if not self.current:
            return ""
        return "descending" if self.descending else "ascending"


def sort_columns(
    state: QueryDict,
    columns: Sequence[tuple[str | None, str]],
    sort: str,
    *,
    descending_first: Collection[str] = (),
) -> list[SortColumn]:
    """Each (key, label) column links to the list sorted by it (again: the other direction);
    a column whose key is None does not sort. Keys in `descending_first` (e.g. a time, newest
    first) sort descending on the first click."""
    current, descending = sort.lstrip("-"), sort.startswith("-")
    headers = []
    for key, label in columns:
        if key is None:
            headers.append(SortColumn(label))
            continue
        query = state.copy()
        query.pop("page", None)
        query.pop("format", None)
        if key == current:
            query["sort"] = key if descending else f"-{key}"
        else:
            query["sort"] = f"-{key}" if key in descending_first else key
        headers.append(SortColumn(label, query.urlencode(), key == current, descending))
    return headers


def query_without(state: QueryDict, *names: str) -> str:
    """The list's query string without `names` (e.g. to build page and CSV links on it)."""
    query = state.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def list_page(request: HttpRequest, rows: Sequence[Any], number: int | None, per_page: int) -> Page:
    """One page of a list. A page past the end (a bookmark of a list that has shrunk) shows the
    last page and says so, never silently another page."""
    paginator = Paginator(rows, per_page)
    wanted = number or 1
    if wanted > paginator.num_pages:
        pages = paginator.num_pages
        messages.warning(
            request,
            f"There is no page {wanted}: the list has {pages} page{pluralize(pages)}. "
            f"This is page {pages}.",
        )
    return paginator.get_page(wanted)

"""Paging the audit log without counting a million rows.

- Counting stops at COUNT_LIMIT (1,000) actions; past it, `count` is PostgreSQL's planner
  estimate for the filtered query (`count_exact` false). SQLite (small deployments) counts.
- `page=N` is an OFFSET, allowed for the first MAX_OFFSET actions; past that a PageTooDeep
  names the way on. `page=last` and cursors are keyset pages: they seek in the sort's index
  from a boundary row's sort values, so the oldest page costs what the newest does.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connections
from django.db.models import Q, QuerySet

from audit.models import AuditEntry

COUNT_LIMIT = 1_000
MAX_OFFSET = 10_000
LAST = "last"


class PageError(ValueError):
    """A page that cannot be served: its message says why and what to use instead."""


class PageTooDeep(PageError):
    pass


class NoSuchPage(PageError):
    def __init__(self, number: int, pages: int) -> None:
        super().__init__(f"There is no page {number}: there are {pages}.")
        self.pages = pages


@dataclass(frozen=True)
class Order:
    """The sort's attributes, in order, all in one direction (ids break ties last)."""

    columns: tuple[str, ...]
    descending: bool

    def order_by(self, *, reverse: bool = False) -> list[str]:
        descending = self.descending != reverse
        return [f"-{column}" if descending else column for column in self.columns]

    def after(self, values: list[Any], *, reverse: bool = False) -> Q:
        """Rows strictly after `values` in this order (before them with `reverse`)."""
        op = "lt" if self.descending != reverse else "gt"
        first, first_value = self.columns[0], values[0]
        beyond = Q()
        for n, column in enumerate(self.columns):
            equal = dict(zip(self.columns[:n], values, strict=False))
            beyond |= Q(**equal, **{f"{column}__{op}": values[n]})
        # The redundant bound on the first column lets the index seek to the boundary.
        return Q(**{f"{first}__{op}e": first_value}) & beyond

    def values(self, row: AuditEntry) -> list[Any]:
        return [getattr(row, column) for column in self.columns]


def encode_cursor(direction: Literal["next", "prev"], order: Order, values: list[Any]) -> str:
    text = json.dumps([direction, order.columns, values], separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, order: Order) -> tuple[str, list[Any]]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        direction, columns, values = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise PageError("This page link is damaged: start again from the first page.") from exc
    if direction not in {"next", "prev"} or not isinstance(values, list):
        raise PageError("This page link is damaged: start again from the first page.")
    if (
        columns != list(order.columns)
        or len(values) != len(order.columns)
        or not all(isinstance(value, str | int) for value in values)
    ):
        raise PageError("This page link belongs to another sort order: start again.")
    return direction, values


@dataclass(frozen=True)
class ActionPage:
    object_list: list[AuditEntry]
    count: int
    count_exact: bool
    page_size: int
    number: int | None
    has_next: bool
    has_previous: bool
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.page_size))

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int | None:
        """Page-number links while they stay cheap; cursors past that."""
        if self.number is None or not self.has_next or self.number * self.page_size >= MAX_OFFSET:
            return None
        return self.number + 1

    @property
    def previous_page_number(self) -> int | None:
        return self.number - 1 if self.number and self.number > 1 else None


def count_actions(rows: QuerySet[AuditEntry]) -> tuple[int, bool]:
    """(count, exact): exact up to COUNT_LIMIT; past it on PostgreSQL the planner's estimate."""
    slim = rows.order_by().values("pk")
    connection = connections[rows.db]
    if connection.vendor != "postgresql":
        return slim.count(), True
    counted = slim[: COUNT_LIMIT + 1].count()
    if counted <= COUNT_LIMIT:
        return counted, True
    plan = json.loads(slim.explain(format="json"))
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    return max(estimate, counted), False


def action_page(
    rows: QuerySet[AuditEntry],
    order: Order,
    *,
    page: int | str | None = None,
    cursor: str = "",
    page_size: int = 50,
    clamp: bool = False,
) -> ActionPage:
    """One page of `rows` (sorted by `order`): by cursor, by number, or the last one.

    `clamp`: a number past the end shows the last page (the pages) instead of NoSuchPage (the
    API)."""
    count, exact = count_actions(rows)
    pages = max(1, math.ceil(count / page_size))
    facts: dict[str, Any] = {"count": count, "count_exact": exact, "page_size": page_size}
    if cursor:
        direction, values = decode_cursor(cursor, order)
        return _seek(rows, order, facts, values=values, backwards=direction == "prev")
    if page == LAST:
        return _seek(
            rows, order, facts, values=None, backwards=True, number=pages if exact else None
        )
    number = int(page or 1)
    if number > pages and exact:
        if not clamp:
            raise NoSuchPage(number, pages)
        number = pages
    if (number - 1) * page_size >= MAX_OFFSET:
        raise PageTooDeep(
            f"Page {number} is past the first {MAX_OFFSET:,} actions, which is as far as page "
            "numbers go: follow the Next and Last links (API: `next_cursor`), or narrow the "
            "filters (a date range)."
        )
    offset = (number - 1) * page_size
    found = list(rows.order_by(*order.order_by())[offset : offset + page_size + 1])
    shown = found[:page_size]
    has_next = len(found) > page_size
    return ActionPage(
        object_list=shown,
        number=number,
        has_next=has_next,
        has_previous=number > 1,
        next_cursor=encode_cursor("next", order, order.values(shown[-1])) if has_next else None,
        previous_cursor=encode_cursor("prev", order, order.values(shown[0]))
        if number > 1
        else None,
        **facts,
    )


def _seek(
    rows: QuerySet[AuditEntry],
    order: Order,
    facts: dict[str, Any],
    *,
    values: list[Any] | None,
    backwards: bool,
    number: int | None = None,
) -> ActionPage:
    """A keyset page: the page_size rows after `values` (before them when `backwards`; the
    last page when `values` is None)."""
    size = facts["page_size"]
    if values is not None:
        rows = rows.filter(order.after(values, reverse=backwards))
    found = list(rows.order_by(*order.order_by(reverse=backwards))[: size + 1])
    more = len(found) > size
    shown = found[:size]
    if backwards:
        shown.reverse()
    has_next = more if not backwards else values is not None
    has_previous = more if backwards else True
    return ActionPage(
        object_list=shown,
        number=number,
        has_next=has_next and bool(shown),
        has_previous=has_previous and bool(shown),
        next_cursor=encode_cursor("next", order, order.values(shown[-1]))
        if shown and has_next
        else None,
        previous_cursor=(
            encode_cursor("prev", order, order.values(shown[0])) if shown and has_previous else None
        ),
        **facts,
    )

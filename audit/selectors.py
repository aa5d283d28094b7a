"""Reading the audit log: actions (attempt joined with its outcome), one entry, the chain check."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ParamSpec, TypeVar
from urllib.parse import quote

from django.db import connections
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf

from audit.intune import (
    AUDIT_CATEGORIES,
    AUDIT_EVENTS,
    AUDIT_PERMISSION,
    IntuneAuditEvent,
    activity_types_path,
    odata_string,
)
from audit.models import AuditEntry, Outcome, Phase
from audit.paging import Order
from audit.search import SearchText
from graph.datetimes import format_graph_datetime
from graph.errors import GraphPermissionError

if TYPE_CHECKING:
    from graph.client import GraphClient

# Sort keys the viewer offers (`?sort=`, `-` for descending) and the columns behind them.
# Time order is id order: entries are stamped under the chain lock, so the primary key serves it.
SORTS: dict[str, tuple[str, ...]] = {
    "time": ("id",),
    "actor": ("actor_upn", "id"),
    "action": ("action", "id"),
    "target": ("target_type", "target_name", "target_id", "id"),
    "outcome": ("shown_outcome", "id"),
}
DEFAULT_SORT = "-time"
# A filter's suggestion list offers at most this many values.
MAX_SUGGESTIONS = 500

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class AuditFilters:
    """What the viewer narrows the log to; every field optional."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    outcome: str = ""
    q: str = ""
    sort: str = DEFAULT_SORT
    tenant: str = ""


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def audit_action_list(*, filters: AuditFilters | None = None) -> QuerySet[AuditEntry]:
    """One row per action: its first entry with the outcome row joined (`outcome_entry`).

    An action is an attempt, or an outcome recorded without an attempt. `shown_outcome` is the
    outcome row's outcome, or "unknown" when the attempt has none (e.g. a crash after it).
    """
    filters = filters or AuditFilters()
    # An attempt always precedes its outcome: `id < outer id` keeps the check an index probe
    # per lone outcome (an equality-only subquery lets PostgreSQL hash every attempt first).
    orphan_outcome = Q(phase=Phase.OUTCOME, attempt__isnull=True) & ~Exists(
        AuditEntry.objects.filter(
            phase=Phase.ATTEMPT,
            correlation_id=OuterRef("correlation_id"),
            id__lt=OuterRef("id"),
        )
    )
    rows = (
        AuditEntry.objects.filter(Q(phase=Phase.ATTEMPT) | orphan_outcome)
        .select_related("outcome_entry")
        .annotate(
            shown_outcome=Coalesce(
                F("outcome_entry__outcome"),
                # An outcome row standing alone carries its own; attempt rows hold "".
                NullIf(F("outcome"), Value("")),
                Value(Outcome.UNKNOWN.value),
            )
        )
    )
    # Whole UTC days, as bounds on the column itself so its index serves the range.
    if filters.date_from:
        rows = rows.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        rows = rows.filter(created_at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    if filters.actor:
        rows = rows.filter(
            Q(actor_upn__iexact=filters.actor)
            | Q(actor_oid__iexact=filters.actor)
            | Q(actor_name__iexact=filters.actor)
        )
    if filters.tenant:
        rows = rows.filter(tenant_id__iexact=filters.tenant)
    if filters.action:
        rows = rows.filter(action=filters.action)
    if filters.target_type:
        rows = rows.filter(target_type=filters.target_type)
    if filters.target_id:
        # A create's attempt has no id yet; its outcome carries the id Graph assigned.
        rows = rows.filter(pk__in=_actions_of(Q(target_id=filters.target_id)))
    if filters.outcome:
        rows = rows.filter(shown_outcome=filters.outcome)
    for word in filters.q.split():
        # Each word in the attempt or its outcome, found through the search index.
        rows = rows.filter(pk__in=_actions_of(_word_search(word)))
    return rows.order_by(*action_order(filters.sort).order_by())


def _actions_of(entries: Q) -> QuerySet[AuditEntry]:
    """The actions (attempt ids, or the id of an outcome standing alone) of matching entries."""
    return (
        AuditEntry.objects.alias(search=SearchText())
        .filter(entries)
        .order_by()
        .values_list(Coalesce("attempt_id", "id"), flat=True)
    )


def _word_search(word: str) -> Q:
    query = Q(search__icontains=word)
    with contextlib.suppress(ValueError):
        query |= Q(correlation_id=uuid.UUID(word))
    return query


def action_order(sort: str) -> Order:
    """The columns behind a `?sort=` value, and its direction."""
    return Order(
        columns=SORTS.get(sort.lstrip("-"), SORTS["time"]), descending=sort.startswith("-")
    )


def audit_entry_get(*, entry_id: int, tenant: str = "") -> AuditEntry | None:
    """An entry with its counterpart: an attempt with its outcome, an outcome with its attempt;
    within `tenant` when given (a page or API URL under a tenant shows only its entries)."""
    rows = AuditEntry.objects.select_related("attempt", "outcome_entry").filter(pk=entry_id)
    if tenant:
        rows = rows.filter(tenant_id__iexact=tenant)
    return rows.first()


def audit_distinct_values(*, field: str) -> list[str]:
    """The values a filter's suggestions offer (actors, actions, target types seen so far)."""
    if field not in {"actor_upn", "action", "target_type"}:
        raise ValueError(f"No suggestions for {field!r}.")
    # A skip scan: each step seeks the next value in the column's index, so a million rows with
    # twenty actors cost twenty index probes, not a scan (SELECT DISTINCT would read them all).
    table = AuditEntry._meta.db_table
    sql = (
        f"WITH RECURSIVE seen(value) AS ("  # noqa: S608 - field and table are fixed names
        f" SELECT MIN({field}) FROM {table}"
        f" UNION ALL"
        f" SELECT (SELECT MIN({field}) FROM {table} WHERE {field} > seen.value)"
        f" FROM seen WHERE seen.value IS NOT NULL"
        f") SELECT value FROM seen WHERE value IS NOT NULL LIMIT %s"
    )
    with connections[AuditEntry.objects.db].cursor() as cursor:
        cursor.execute(sql, [MAX_SUGGESTIONS])
        return [row[0] for row in cursor.fetchall()]


# -- Intune's own audit events, read from Graph ----------------------------------------------

INTUNE_PAGE_SIZE = 50
# How far around a local entry's time Intune's event for the same request is looked for.
INTUNE_MATCH_BEFORE = dt.timedelta(minutes=10)
INTUNE_MATCH_AFTER = dt.timedelta(hours=2)
INTUNE_MATCH_MAX_PAGES = 5


@dataclass(frozen=True)
class IntuneFilters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    category: str = ""
    activity_type: str = ""


@dataclass(frozen=True)
class IntuneEventPage:
    events: tuple[IntuneAuditEvent, ...]
    next_link: str | None
    request_id: str
    # Local actions whose correlation id matches an event here, by correlation id.
    local_entries: dict[str, AuditEntry]

    @property
    def rows(self) -> list[tuple[IntuneAuditEvent, AuditEntry | None]]:
        """Each event with the dashboard's own entry for the same request, if there is one."""
        return [
            (event, self.local_entries.get(str(event.correlation_uuid))) for event in self.events
        ]


def _intune_params(filters: IntuneFilters, *, page_size: int) -> dict[str, str | int]:
    clauses = []
    if filters.date_from:
        start = _day_start(filters.date_from)
        clauses.append(f"activityDateTime ge {format_graph_datetime(start)}")
    if filters.date_to:
        end = _day_start(filters.date_to + dt.timedelta(days=1))
        clauses.append(f"activityDateTime lt {format_graph_datetime(end)}")
    if filters.category:
        clauses.append(f"category eq {odata_string(filters.category)}")
    if filters.activity_type:
        clauses.append(f"activityType eq {odata_string(filters.activity_type)}")
    params: dict[str, str | int] = {"$orderby": "activityDateTime desc", "$top": page_size}
    if clauses:
        params["$filter"] = " and ".join(clauses)
    return params


def intune_next_link_is_ours(*, graph: GraphClient, next_link: str) -> bool:
    """Whether a nextLink from the URL leads to more audit events on this Graph, and nowhere
    else (it comes back from the browser, so it is input like any other)."""
    return next_link.startswith(f"{graph.url_for(AUDIT_EVENTS)}?")


def _names_audit_permission(read: Callable[P, R]) -> Callable[P, R]:
    """Intune's audit reads need AUDIT_PERMISSION: a 403 names it even when Graph's message
    does not (the one fault path then says which permission is missing)."""

    @functools.wraps(read)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return read(*args, **kwargs)
        except GraphPermissionError as error:
            error.required_permission = error.required_permission or AUDIT_PERMISSION
            raise

    return wrapper


@_names_audit_permission
def intune_audit_event_page(
    *,
    graph: GraphClient,
    filters: IntuneFilters,
    next_link: str = "",
    page_size: int = INTUNE_PAGE_SIZE,
) -> IntuneEventPage:
    """One page of Intune's audit events, newest first; `next_link` continues a listing."""
    if next_link:
        page = graph.page(next_link)
    else:
        page = graph.page(AUDIT_EVENTS, params=_intune_params(filters, page_size=page_size))
    events = tuple(IntuneAuditEvent.from_graph(item) for item in page.items)
    return IntuneEventPage(
        events=events,
        next_link=page.next_link,
        request_id=page.response.request_id,
        local_entries=audit_actions_by_correlation(
            correlation_ids=[e.correlation_uuid for e in events if e.correlation_uuid]
        ),
    )


@_names_audit_permission
def intune_audit_event_get(*, graph: GraphClient, event_id: str) -> IntuneAuditEvent:
    response = graph.get(f"{AUDIT_EVENTS}/{quote(event_id, safe='')}")
    return IntuneAuditEvent.from_graph(response.body if isinstance(response.body, dict) else {})


def intune_audit_categories(*, graph: GraphClient) -> list[str]:
    body = graph.get(AUDIT_CATEGORIES).body
    values = body.get("value") if isinstance(body, dict) else None
    return sorted({value for value in values or [] if isinstance(value, str) and value})


def intune_audit_activity_types(*, graph: GraphClient, category: str) -> list[str]:
    if not category:
        return []
    body = graph.get(activity_types_path(category)).body
    values = body.get("value") if isinstance(body, dict) else None
    return sorted({value for value in values or [] if isinstance(value, str) and value})


@_names_audit_permission
def intune_event_for_entry(*, graph: GraphClient, entry: AuditEntry) -> IntuneAuditEvent | None:
    """Intune's event for a local action: same correlation id, near the same time.

    Matched here rather than with `$filter=correlationId eq …`, which not every Graph honours:
    a time window keeps the scan to a few pages.
    """
    start = format_graph_datetime(entry.created_at - INTUNE_MATCH_BEFORE)
    end = format_graph_datetime(entry.created_at + INTUNE_MATCH_AFTER)
    params: dict[str, str | int] = {
        "$filter": f"activityDateTime ge {start} and activityDateTime le {end}",
        "$orderby": "activityDateTime desc",
        "$top": 100,
    }
    wanted = str(entry.correlation_id).lower()
    link: str | None = None
    for _ in range(INTUNE_MATCH_MAX_PAGES):
        page = graph.page(link) if link else graph.page(AUDIT_EVENTS, params=params)
        for item in page.items:
            if str(item.get("correlationId", "")).lower() == wanted:
                return IntuneAuditEvent.from_graph(item)
        link = page.next_link
        if not link:
            break
    return None


@_names_audit_permission
def intune_events_for_resource(
    *, graph: GraphClient, resource_id: str, since: dt.datetime, until: dt.datetime
) -> list[IntuneAuditEvent]:
    """Intune's events that name this resource between two times, newest first (the watch's
    drift: who changed an object outside the dashboard). A time window and a scan of a few
    pages, as `intune_event_for_entry` does, rather than a filter on resources Graph lacks."""
    start = format_graph_datetime(since - INTUNE_MATCH_BEFORE)
    # Graph's times are to the second here: the end rounds up, so an event of this second counts.
    end = format_graph_datetime(until + dt.timedelta(seconds=1))
    params: dict[str, str | int] = {
        "$filter": f"activityDateTime ge {start} and activityDateTime le {end}",
        "$orderby": "activityDateTime desc",
        "$top": 100,
    }
    found: list[IntuneAuditEvent] = []
    link: str | None = None
    for _ in range(INTUNE_MATCH_MAX_PAGES):
        page = graph.page(link) if link else graph.page(AUDIT_EVENTS, params=params)
        for item in page.items:
            event = IntuneAuditEvent.from_graph(item)
            if any(resource.resource_id == resource_id for resource in event.resources):
                found.append(event)
        link = page.next_link
        if not link:
            break
    return found


def writes_to_object(*, tenant_id: str, target_id: str, since: dt.datetime) -> list[AuditEntry]:
    """The dashboard's own writes to one object since a time, newest first: outcome rows that
    succeeded, or whose outcome is unknown (Graph may have applied them)."""
    return list(
        AuditEntry.objects.filter(
            tenant_id=tenant_id,
            target_id=target_id,
            phase=Phase.OUTCOME,
            outcome__in=[Outcome.SUCCEEDED, Outcome.UNKNOWN],
            created_at__gte=since,
        ).order_by("-id")
    )


def audit_actions_by_correlation(*, correlation_ids: list[uuid.UUID]) -> dict[str, AuditEntry]:
    """The local actions (attempt rows) for these correlation ids, keyed by the id's text."""
    if not correlation_ids:
        return {}
    rows = AuditEntry.objects.filter(
        correlation_id__in=correlation_ids, phase=Phase.ATTEMPT
    ).order_by("id")
    return {str(row.correlation_id): row for row in rows}


@_names_audit_permission
def intune_filter_choices(*, graph: GraphClient, category: str) -> tuple[list[str], list[str]]:
    """What the Intune filters may offer: Graph's categories, and the activity types of the
    chosen category when Graph knows it (none otherwise)."""
    categories = intune_audit_categories(graph=graph)
    activity_types = (
        intune_audit_activity_types(graph=graph, category=category)
        if category in categories
        else []
    )
    return categories, activity_types

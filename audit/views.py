"""The audit log's pages: the filtered list (and its CSV), and one action's detail.

Read-only by construction: every route accepts GET and HEAD only, for every role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from audit.exports import audit_csv_chunks
from audit.forms import AuditFilterForm, AuditPageForm, IntuneFilterForm
from audit.intune import AUDIT_PERMISSION
from audit.models import AuditEntry, Phase
from audit.selectors import (
    DEFAULT_SORT,
    audit_action_list,
    audit_actions_by_correlation,
    audit_distinct_values,
    audit_entry_get,
    intune_audit_event_get,
    intune_audit_event_page,
    intune_event_for_entry,
    intune_filter_choices,
    intune_next_link_is_ours,
)
from connectors.graph.client import GraphClient
from connectors.graph.errors import GraphAuthError, GraphError, GraphPermissionError
from connectors.graph.session import graph_client_for_session
from dashboard.csv_export import csv_download
from dashboard.graph_faults import fault_status, graph_fault_message, graph_fault_response

PAGE_SIZE = 50
COLUMNS = [
    ("time", "When"),
    ("actor", "Actor"),
    ("action", "Action"),
    ("target", "Target"),
    (None, "Change"),
    ("outcome", "Outcome"),
    (None, "Request id"),
]


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@dataclass(frozen=True)
class Column:
    label: str
    sort_key: str | None = None
    link_sort: str = ""
    aria_sort: str = ""


def _columns(current_sort: str) -> list[Column]:
    """Headers with the sort each link applies: ascending first, again to reverse."""
    columns = []
    for key, label in COLUMNS:
        if key is None:
            columns.append(Column(label=label))
            continue
        if current_sort == key:
            columns.append(Column(label, key, f"-{key}", "ascending"))
        elif current_sort == f"-{key}":
            columns.append(Column(label, key, key, "descending"))
        else:
            # Time reads newest first by default; the others A→Z.
            columns.append(Column(label, key, f"-{key}" if key == "time" else key))
    return columns


@require_http_methods(["GET", "HEAD"])
@vary_on_headers("HX-Request")
def audit_list(request: HtmxHttpRequest) -> HttpResponse:
    form = AuditPageForm(request.GET)
    valid = form.is_valid()
    wants_csv = valid and form.cleaned_data.get("format") == "csv"
    if wants_csv:
        return _csv_response(form)
    context: dict[str, Any] = {"form": form}
    if not request.htmx:
        # The filter suggestions live outside the results region htmx swaps.
        context |= {
            "actors": audit_distinct_values(field="actor_upn"),
            "actions": audit_distinct_values(field="action"),
            "target_types": audit_distinct_values(field="target_type"),
        }
    if valid:
        sort = form.cleaned_data.get("sort") or DEFAULT_SORT
        page = Paginator(audit_action_list(filters=form.filters()), PAGE_SIZE).get_page(
            form.cleaned_data.get("page") or 1
        )
        context |= {"page": page, "columns": _columns(sort), "sort": sort}
    if request.htmx:
        # The page's htmx config swaps 422 answers, not 400: filter errors still reach the page.
        return render(request, "audit/list.html#results", context, status=200 if valid else 422)
    return render(request, "audit/list.html", context, status=200 if valid else 400)


def _csv_response(form: AuditFilterForm) -> StreamingHttpResponse:
    return csv_download(
        audit_csv_chunks(audit_action_list(filters=form.filters())), name="audit-log"
    )


@dataclass(frozen=True)
class DiffRow:
    field: str
    before: Any
    after: Any
    applied: Any
    changed: bool
    applied_differs: bool


def _diff(action: AuditEntry, outcome: AuditEntry | None) -> list[DiffRow]:
    before, requested = action.before or {}, action.after or {}
    applied = outcome.after if outcome is not None else requested
    rows = []
    for name in action.changed_fields:
        after_value = requested.get(name)
        applied_value = (applied or {}).get(name)
        rows.append(
            DiffRow(
                field=name,
                before=before.get(name),
                after=after_value,
                applied=applied_value,
                changed=before.get(name) != after_value,
                applied_differs=applied_value != after_value,
            )
        )
    return rows


@require_http_methods(["GET", "HEAD"])
def audit_detail(request: HttpRequest, entry_id: str) -> HttpResponse:
    if not entry_id.isdigit() or (entry := audit_entry_get(entry_id=int(entry_id))) is None:
        raise Http404("No such audit entry.")
    # The page is about the action: an outcome row shows its attempt, an attempt its outcome.
    if entry.phase == Phase.OUTCOME and entry.attempt is not None:
        action, outcome = entry.attempt, entry
    elif entry.phase == Phase.OUTCOME:
        action, outcome = entry, entry
    else:
        action, outcome = entry, entry.outcome_row
    shown_outcome = outcome.outcome if outcome is not None else "unknown"
    entries = [action] if outcome is None or outcome is action else [action, outcome]
    return render(
        request,
        "audit/detail.html",
        {
            "action": action,
            "outcome": outcome,
            "shown_outcome": shown_outcome,
            "entries": entries,
            "diff": _diff(action, outcome if outcome is not action else None),
            "target_id": action.shown_target_id,
        },
    )


# -- Intune's own audit events (read from Graph through the signed-in user's client) ---------


def _intune_fault(
    request: HtmxHttpRequest, error: GraphError, context: dict[str, Any] | None = None
) -> HttpResponse:
    """A Graph fault as a message naming Graph's request id: a page, a toast, or sign-in."""
    if isinstance(error, GraphPermissionError) and not error.required_permission:
        # This page knows what it needs even when Graph's message does not say.
        error.required_permission = AUDIT_PERMISSION
    if isinstance(error, GraphAuthError) or request.htmx:
        return graph_fault_response(request, error, title="Intune audit events unavailable")
    return render(
        request,
        "audit/intune.html",
        {
            **(context or {}),
            "graph_error": graph_fault_message(error),
            "form": (context or {}).get("form") or _intune_form(request, [], []),
        },
        status=fault_status(error),
    )


def _intune_form(
    request: HttpRequest,
    categories: list[str],
    activity_types: list[str],
    graph: GraphClient | None = None,
) -> IntuneFilterForm:
    def allowed(link: str) -> bool:
        return graph is not None and intune_next_link_is_ours(graph=graph, next_link=link)

    return IntuneFilterForm(
        request.GET,
        categories=categories,
        activity_types=activity_types,
        next_link_allowed=allowed,
    )


@require_http_methods(["GET", "HEAD"])
@vary_on_headers("HX-Request")
def intune_list(request: HtmxHttpRequest) -> HttpResponse:
    graph = graph_client_for_session(request.session)
    try:
        categories, activity_types = intune_filter_choices(
            graph=graph, category=request.GET.get("category", "")
        )
        form = _intune_form(request, categories, activity_types, graph)
        context: dict[str, Any] = {"form": form}
        if not form.is_valid():
            if request.htmx:
                return render(request, "audit/intune.html#events", context, status=422)
            return render(request, "audit/intune.html", context, status=400)
        page = intune_audit_event_page(
            graph=graph, filters=form.filters(), next_link=form.cleaned_data["next"]
        )
    except GraphError as error:
        return _intune_fault(request, error)
    page_number = form.cleaned_data.get("page") or 1
    context |= {"page": page, "page_number": page_number, "next_page_number": page_number + 1}
    template = "audit/intune.html#events" if request.htmx else "audit/intune.html"
    return render(request, template, context)


@require_http_methods(["GET", "HEAD"])
def intune_activity_types(request: HtmxHttpRequest) -> HttpResponse:
    """The activity-type dropdown for the chosen category (htmx swaps it in on change)."""
    graph = graph_client_for_session(request.session)
    try:
        categories, activity_types = intune_filter_choices(
            graph=graph, category=request.GET.get("category", "")
        )
    except GraphError as error:
        return _intune_fault(request, error)
    form = _intune_form(request, categories, activity_types)
    return render(request, "audit/intune.html#activity_type_field", {"form": form})


@require_http_methods(["GET", "HEAD"])
def intune_detail(request: HtmxHttpRequest, event_id: str) -> HttpResponse:
    graph = graph_client_for_session(request.session)
    try:
        event = intune_audit_event_get(graph=graph, event_id=event_id)
    except GraphError as error:
        return _intune_fault(request, error)
    local = (
        audit_actions_by_correlation(correlation_ids=[event.correlation_uuid])
        if event.correlation_uuid
        else {}
    )
    return render(
        request,
        "audit/intune_detail.html",
        {"event": event, "local_entry": local.get(str(event.correlation_uuid))},
    )


@require_http_methods(["GET", "HEAD"])
def intune_for_entry(request: HtmxHttpRequest, entry_id: str) -> HttpResponse:
    """Intune's event for a local action (same correlation id): a link for htmx, else a
    redirect to it, or a page saying there is none (yet)."""
    if not entry_id.isdigit() or (entry := audit_entry_get(entry_id=int(entry_id))) is None:
        raise Http404("No such audit entry.")
    if entry.phase == Phase.OUTCOME and entry.attempt is not None:
        entry = entry.attempt
    graph = graph_client_for_session(request.session)
    try:
        event = intune_event_for_entry(graph=graph, entry=entry)
    except GraphError as error:
        if request.htmx and not isinstance(error, GraphAuthError):
            # Inside the detail page: a line saying why, not a toast over an unrelated page.
            return render(
                request,
                "audit/intune_match.html",
                {"entry": entry, "graph_error": graph_fault_message(error)},
            )
        return _intune_fault(request, error)
    if event is not None and not request.htmx:
        return redirect("audit:intune-detail", event_id=event.id)
    template = "audit/intune_match.html" if request.htmx else "audit/intune_match_page.html"
    return render(request, template, {"entry": entry, "event": event})

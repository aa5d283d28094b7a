"""The audit log's pages: the filtered list (and its CSV), and one action's detail.

Read-only by construction: every route accepts GET and HEAD only, for every role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from audit.exports import audit_csv_chunks
from audit.forms import AuditFilterForm, IntuneFilterForm, audit_filter_data, path_tenant
from audit.models import AuditEntry, Phase
from audit.paging import PageError, action_page
from audit.selectors import (
    DEFAULT_SORT,
    action_order,
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
from graph.client import GraphClient
from graph.errors import GraphAuthError, GraphError
from kernel.csv_export import csv_download
from kernel.faults import graph_fault_message
from kernel.graph_clients import graph_for
from kernel.htmx import HtmxHttpRequest, form_error_status
from kernel.listing import sort_columns

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


@require_http_methods(["GET", "HEAD"])
@vary_on_headers("HX-Request")
def audit_list(request: HtmxHttpRequest) -> HttpResponse:
    form = AuditFilterForm(audit_filter_data(request))
    valid = form.is_valid()
    wants_csv = valid and form.cleaned_data.get("format") == "csv"
    if wants_csv:
        return _csv_response(form)
    context: dict[str, Any] = {"form": form}
    if not request.htmx:
        # The filter suggestions live outside the results region htmx swaps.
        context |= {"actors": audit_distinct_values(field="actor_upn")}
    if valid:
        sort = form.cleaned_data.get("sort") or DEFAULT_SORT
        try:
            page = action_page(
                audit_action_list(filters=form.filters()),
                action_order(sort),
                page=_page_param(request.GET.get("page", "")),
                cursor=request.GET.get("cursor", ""),
                page_size=PAGE_SIZE,
                clamp=True,
            )
            # A cursor belongs to its sort: the headers' links start the new sort afresh.
            state = request.GET.copy()
            state.pop("cursor", None)
            context |= {
                "page": page,
                "columns": sort_columns(state, COLUMNS, sort, descending_first={"time"}),
                "sort": sort,
            }
        except PageError as error:
            form.add_error(None, str(error))
            valid = False
    template = "audit/list.html#results" if request.htmx else "audit/list.html"
    return render(request, template, context, status=200 if valid else form_error_status(request))


def _page_param(value: str) -> int | str:
    """`?page=`: a number, or `last`; anything else is the first page, as before."""
    if value == "last":
        return value
    return int(value) if value.isdigit() and int(value) > 0 else 1


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
    if (
        not entry_id.isdigit()
        or (entry := audit_entry_get(entry_id=int(entry_id), tenant=path_tenant(request))) is None
    ):
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
    graph = graph_for(request)
    categories, activity_types = intune_filter_choices(
        graph=graph, category=request.GET.get("category", "")
    )
    form = _intune_form(request, categories, activity_types, graph)
    context: dict[str, Any] = {"form": form}
    template = "audit/intune.html#events" if request.htmx else "audit/intune.html"
    if not form.is_valid():
        return render(request, template, context, status=form_error_status(request))
    page = intune_audit_event_page(
        graph=graph, filters=form.filters(), next_link=form.cleaned_data["next"]
    )
    page_number = form.cleaned_data.get("page") or 1
    context |= {"page": page, "page_number": page_number, "next_page_number": page_number + 1}
    return render(request, template, context)


@require_http_methods(["GET", "HEAD"])
def intune_activity_types(request: HtmxHttpRequest) -> HttpResponse:
    """The activity-type dropdown for the chosen category (htmx swaps it in on change)."""
    categories, activity_types = intune_filter_choices(
        graph=graph_for(request), category=request.GET.get("category", "")
    )
    form = _intune_form(request, categories, activity_types)
    return render(request, "audit/intune.html#activity_type_field", {"form": form})


@require_http_methods(["GET", "HEAD"])
def intune_detail(request: HtmxHttpRequest, event_id: str) -> HttpResponse:
    event = intune_audit_event_get(graph=graph_for(request), event_id=event_id)
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
    if (
        not entry_id.isdigit()
        or (entry := audit_entry_get(entry_id=int(entry_id), tenant=path_tenant(request))) is None
    ):
        raise Http404("No such audit entry.")
    if entry.phase == Phase.OUTCOME and entry.attempt is not None:
        entry = entry.attempt
    try:
        event = intune_event_for_entry(graph=graph_for(request), entry=entry)
    except GraphError as error:
        if not request.htmx or isinstance(error, GraphAuthError):
            raise  # the one fault path: a page, or sign-in
        # Deliberately inline: inside the detail page, a line saying why Intune's event is not
        # shown, not a toast over a page that is otherwise fine.
        return render(
            request,
            "audit/intune_match.html",
            {"entry": entry, "graph_error": graph_fault_message(error)},
        )
    if event is not None and not request.htmx:
        return redirect("audit:intune-detail", event_id=event.id)
    template = "audit/intune_match.html" if request.htmx else "audit/intune_match_page.html"
    return render(request, template, {"entry": entry, "event": event})

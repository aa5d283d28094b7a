"""The audit log's pages: the filtered list (and its CSV), and one action's detail.

Read-only by construction: every route accepts GET and HEAD only, for every role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from audit.exports import audit_csv_chunks
from audit.forms import AuditFilterForm
from audit.models import AuditEntry, Phase
from audit.selectors import (
    DEFAULT_SORT,
    audit_action_list,
    audit_distinct_values,
    audit_entry_get,
)

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
    form = AuditFilterForm(request.GET)
    valid = form.is_valid()
    wants_csv = valid and form.cleaned_data.get("format") == "csv"
    if wants_csv:
        return _csv_response(form)
    context: dict[str, Any] = {
        "form": form,
        "actors": audit_distinct_values(field="actor_upn"),
        "actions": audit_distinct_values(field="action"),
        "target_types": audit_distinct_values(field="target_type"),
    }
    if valid:
        sort = form.cleaned_data.get("sort") or DEFAULT_SORT
        page = Paginator(audit_action_list(filters=form.filters()), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        context |= {"page": page, "columns": _columns(sort), "sort": sort}
    if request.htmx:
        # The page's htmx config swaps 422 answers, not 400: filter errors still reach the page.
        return render(request, "audit/list.html#results", context, status=200 if valid else 422)
    return render(request, "audit/list.html", context, status=200 if valid else 400)


def _csv_response(form: AuditFilterForm) -> StreamingHttpResponse:
    rows = audit_action_list(filters=form.filters())
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(audit_csv_chunks(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response


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

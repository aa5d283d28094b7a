"""The Exchange connector pages: list, detail, create, edit with review, delete, sync."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from audit.models import Action, Outcome, TargetType
from audit.reasons import ReasonForm
from audit.selectors import AuditFilters, audit_action_list
from audit.services import Actor
from connectors import selectors, services
from connectors.enums import ExchangeSyncType, SyncProgress
from connectors.forms import (
    ExchangeConnectorEditForm,
    ExchangeConnectorFilterForm,
    ExchangeConnectorForm,
    SyncForm,
    initial_from,
)
from connectors.records import ExchangeConnector
from connectors.views.common import change_history
from connectors.views.csv_export import csv_response
from connectors.views.editing import EditFlow, reviewed_edit
from graph.datetimes import parse_graph_datetime
from kernel.faults import graph_fault_message
from kernel.graph_clients import graph_for
from kernel.htmx import HtmxHttpRequest, form_error_status, page_or_partial, targets
from kernel.listing import list_page, query_without, sort_columns
from kernel.roles import Role, role_required

LIST = "connectors/exchange/list.html"
DETAIL = "connectors/exchange/detail.html"
ROWS_PER_PAGE = 50
BANNER_DISMISSED = "exchange_end_of_support_banner_dismissed"
CSV_COLUMNS = ["id", *ExchangeConnector.GRAPH_FIELDS, "health"]


# -- list -------------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def exchange_connector_list(request: HtmxHttpRequest) -> HttpResponse:
    form = ExchangeConnectorFilterForm(request.GET, auto_id="filter-%s")
    context = {"filter_form": form, "banner_dismissed": request.session.get(BANNER_DISMISSED)}
    if not form.is_valid():
        return render(
            request,
            page_or_partial(request, LIST, "results"),
            context,
            status=form_error_status(request),
        )
    rows = selectors.exchange_connector_list(
        graph=graph_for(request), now=timezone.now(), **form.selector_arguments()
    )
    if request.GET.get("format") == "csv":
        return csv_response(
            (
                {"id": row.connector.id, **row.connector.graph_values(), "health": row.health}
                for row in rows
            ),
            columns=CSV_COLUMNS,
            name="exchange-connectors",
        )
    page = list_page(request, rows, form.cleaned_data.get("page"), ROWS_PER_PAGE)
    context |= {
        "page": page,
        "rows": page.object_list,
        "query": query_without(request.GET, "page", "format"),
        "columns": sort_columns(request.GET, COLUMNS, form.current_sort()),
        "filtered": any(form.cleaned_data.get(name) for name in ("q", "status", "type", "health")),
    }
    return render(request, page_or_partial(request, LIST, "results"), context)


COLUMNS = [
    ("serverName", "Server name"),
    ("connectorServerName", "Connector host"),
    ("exchangeConnectorType", "Type"),
    ("status", "Status"),
    ("lastSyncDateTime", "Last sync"),
    ("health", "Health"),
    ("version", "Version"),
    ("primarySmtpAddress", "Primary SMTP address"),
]


@require_POST
def dismiss_banner(request: HtmxHttpRequest) -> HttpResponse:
    request.session[BANNER_DISMISSED] = True
    if request.htmx:
        return HttpResponse("")
    return redirect("exchange:list")


# -- detail -----------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def exchange_connector_detail(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    connector = selectors.exchange_connector_get(
        graph=graph_for(request), connector_id=connector_id
    )
    now = timezone.now()
    row = selectors.ExchangeConnectorRow.of(connector, now)
    if targets(request, f"row-{connector_id}"):  # an inline editor's Cancel: the row again
        return render(request, f"{LIST}#row", {"row": row})
    syncs = _sync_requests(connector_id)
    requested = next((entry for entry in syncs if entry.shown_outcome == Outcome.SUCCEEDED), None)
    sync = (
        selectors.exchange_connector_sync_state(
            connector=connector,
            requested_at=requested.created_at,
            sync_type=requested.after.get("syncType", ExchangeSyncType.DELTA_SYNC),
            now=now,
        )
        if requested
        else None
    )
    return render(
        request,
        DETAIL,
        {
            "row": row,
            "connector": connector,
            "sync": sync,
            **change_history(TargetType.EXCHANGE_CONNECTOR, connector_id),
            "sync_history": _sync_history(connector, syncs),
            "reported_fields": ExchangeConnectorForm.REPORTED_BY_CONNECTOR,
        },
    )


def _sync_requests(connector_id: str) -> list[Any]:
    """The last ten sync requests made through the dashboard, newest first (from the audit log)."""
    return list(
        audit_action_list(
            filters=AuditFilters(
                target_type=TargetType.EXCHANGE_CONNECTOR,
                target_id=connector_id,
                action=Action.EXCHANGE_CONNECTOR_SYNC,
            )
        )[:10]
    )


def _sync_history(connector: ExchangeConnector, syncs: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "entry": entry,
            "sync_type": ExchangeSyncType(entry.after.get("syncType", ExchangeSyncType.DELTA_SYNC)),
            "landed": selectors.sync_landed(connector, entry.created_at),
        }
        for entry in syncs
    ]


# -- create -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def exchange_connector_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ExchangeConnectorForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return render(
                request,
                "connectors/exchange/new.html",
                {"form": form},
                status=form_error_status(request),
            )
        created = services.exchange_connector_create(
            graph=graph_for(request), actor=Actor.from_request(request), values=form.graph_values()
        )
        messages.success(request, f"Created Exchange connector {created.display_name}.")
        return redirect("exchange:detail", connector_id=created.id)
    return render(request, "connectors/exchange/new.html", {"form": form})


# -- edit: form → review → save (connectors.views.editing) ---------------------------------------


def _saved_row(request: HtmxHttpRequest, connector: ExchangeConnector) -> HttpResponse:
    row = selectors.ExchangeConnectorRow.of(connector, timezone.now())
    return render(request, f"{LIST}#row", {"row": row})


EDIT_FLOW = EditFlow(
    namespace="exchange",
    noun="Exchange connector",
    list_label="Exchange connectors",
    form_class=ExchangeConnectorEditForm,
    name_field="serverName",
    load=selectors.exchange_connector_get,
    initial=initial_from,
    save=services.exchange_connector_update,
    saved_row=_saved_row,
)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def exchange_connector_edit(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    return reviewed_edit(request, EDIT_FLOW, connector_id=connector_id)


# -- delete -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def exchange_connector_delete(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    graph = graph_for(request)
    if request.method == "GET":
        connector = selectors.exchange_connector_get(graph=graph, connector_id=connector_id)
        return render(
            request,
            page_or_partial(request, "connectors/exchange/delete.html", "confirm"),
            {"connector": connector, "reason_required": settings.AUDIT_REQUIRE_REASON},
        )
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reason"]))
        return redirect("exchange:delete", connector_id=connector_id)
    deleted = services.exchange_connector_delete(
        graph=graph,
        actor=Actor.from_request(request),
        connector_id=connector_id,
        reason=form.cleaned_data["reason"],
    )
    messages.success(request, f"Deleted Exchange connector {deleted.display_name}.")
    return redirect("exchange:list")


# -- sync ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR)
def exchange_connector_sync(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    form = SyncForm(request.POST or request.GET or None)
    if not form.is_valid():
        return HttpResponse("sync_type must be deltaSync or fullSync.", status=400)
    sync_type = ExchangeSyncType(form.cleaned_data["sync_type"])
    graph = graph_for(request)
    if request.method == "GET":  # the confirmation page a full sync needs without JavaScript
        connector = selectors.exchange_connector_get(graph=graph, connector_id=connector_id)
        return render(
            request,
            page_or_partial(request, "connectors/exchange/sync_confirm.html", "confirm"),
            {"connector": connector, "sync_type": sync_type},
        )
    sync = services.exchange_connector_sync(
        graph=graph,
        actor=Actor.from_request(request),
        connector_id=connector_id,
        sync_type=sync_type,
    )
    if request.htmx:
        return _sync_fragment(request, sync.connector, sync.requested_at, sync_type)
    messages.success(
        request,
        f"{sync_type.label} of {sync.connector.display_name} requested at "
        f"{sync.requested_at:%H:%M} UTC. This page shows whether it landed.",
    )
    return redirect("exchange:detail", connector_id=connector_id)


@require_GET
def exchange_connector_sync_status(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    """Polled every 3 s after a sync request: 286 stops the polling once the answer is known."""
    requested_at = parse_graph_datetime(request.GET.get("requested_at", ""))
    sync_type = request.GET.get("sync_type", ExchangeSyncType.DELTA_SYNC)
    if requested_at is None or sync_type not in ExchangeSyncType.values:
        return HttpResponse("requested_at must be an ISO 8601 time with a zone.", status=400)
    connector = selectors.exchange_connector_get(
        graph=graph_for(request), connector_id=connector_id
    )
    return _sync_fragment(request, connector, requested_at, sync_type)


def _sync_fragment(
    request: HtmxHttpRequest, connector: ExchangeConnector, requested_at: datetime, sync_type: str
) -> HttpResponse:
    """The row (on the list) or the sync panel (on the detail page, its poll's target)."""
    now = timezone.now()
    sync = selectors.exchange_connector_sync_state(
        connector=connector, requested_at=requested_at, sync_type=sync_type, now=now
    )
    row = selectors.ExchangeConnectorRow.of(connector, now)
    context: dict[str, Any] = {"row": row, "connector": connector, "sync": sync}
    if targets(request, "sync-panel"):
        template = f"{DETAIL}#sync-panel"
        if not sync.is_pending:
            # Settled: the last sync, the health and the history below the panel are stale too.
            context |= {
                "refresh": True,
                "sync_history": _sync_history(connector, _sync_requests(connector.id)),
            }
    else:
        template = f"{LIST}#row"
    response = render(request, template, context)
    if not sync.is_pending:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_POST
@role_required(Role.OPERATOR)
def exchange_connector_bulk_sync(request: HtmxHttpRequest) -> HttpResponse:
    ids = [value for value in request.POST.getlist("ids") if value]
    form = SyncForm(request.POST)
    if not ids or len(ids) > 500 or not form.is_valid():
        messages.error(request, "Select between 1 and 500 connectors and a sync type.")
        if request.htmx:
            return HttpResponse(status=400)
        return redirect("exchange:list")
    results = services.exchange_connector_bulk_sync(
        graph=graph_for(request),
        actor=Actor.from_request(request),
        connector_ids=ids,
        sync_type=form.cleaned_data["sync_type"],
    )
    refused = sum(result.outcome == Outcome.FAILED for result in results)
    unknown = sum(result.outcome == Outcome.UNKNOWN for result in results)
    if refused or unknown:
        messages.warning(
            request,
            f"Sync requested for {len(results) - refused - unknown} of {len(results)} "
            f"connector{pluralize(len(results))}; {refused} refused, {unknown} with an unknown "
            "outcome (see the audit log).",
        )
    else:
        messages.success(
            request, f"Sync requested for {len(results)} connector{pluralize(len(results))}."
        )
    if request.htmx:
        items = [{"id": result.connector_id, "sync": _bulk_state(result)} for result in results]
        context = {"results": items, "refused": refused, "unknown": unknown}
        return render(request, f"{LIST}#bulk-results", context)
    return redirect("exchange:list")


# A connector's own outcome in a bulk sync, as its row shows it.
BULK_PROGRESS = {
    Outcome.SUCCEEDED: SyncProgress.PENDING,
    Outcome.FAILED: SyncProgress.REFUSED,
    Outcome.UNKNOWN: SyncProgress.UNKNOWN,
}


def _bulk_state(result: services.BulkSyncResult) -> selectors.SyncState:
    return selectors.SyncState(
        connector_id=result.connector_id,
        requested_at=result.requested_at,
        sync_type=ExchangeSyncType(result.sync_type),
        progress=BULK_PROGRESS[result.outcome],
        timeout_seconds=settings.SYNC_VERIFY_TIMEOUT_SECONDS,
        message=graph_fault_message(result.error) if result.error else "",
    )

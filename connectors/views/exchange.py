"""The Exchange connector pages: list, detail, create, edit with review, delete, sync."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from audit.models import Action, Outcome, TargetType
from audit.selectors import AuditFilters, audit_action_list
from audit.services import Actor
from connectors import selectors, services
from connectors.forms import (
    ExchangeConnectorEditForm,
    ExchangeConnectorFilterForm,
    ExchangeConnectorForm,
    SyncForm,
    initial_from,
)
from connectors.graph.errors import GraphError
from connectors.records import ExchangeConnector, parse_graph_datetime
from connectors.views.common import HtmxHttpRequest, change_history, graph_for, page_or_partial
from connectors.views.csv_export import csv_response
from connectors.views.editing import EditFlow, reviewed_edit
from connectors.views.listing import query_without, sort_columns
from dashboard.graph_faults import graph_fault_message, graph_fault_response
from dashboard.roles import Role, role_required

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
        # htmx swaps a 422 (not a 400), so the field error reaches the filters.
        status = 422 if request.htmx else 400
        return render(request, page_or_partial(request, LIST, "results"), context, status=status)
    try:
        rows = selectors.exchange_connector_list(
            graph=graph_for(request), now=timezone.now(), **form.selector_arguments()
        )
    except GraphError as error:
        return graph_fault_response(request, error, title="Could not list the Exchange connectors")
    if request.GET.get("format") == "csv":
        return csv_response(
            (
                {"id": row.connector.id, **row.connector.graph_values(), "health": row.health}
                for row in rows
            ),
            columns=CSV_COLUMNS,
            name="exchange-connectors",
        )
    page = Paginator(rows, ROWS_PER_PAGE).get_page(form.cleaned_data.get("page") or 1)
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
    try:
        connector = selectors.exchange_connector_get(
            graph=graph_for(request), connector_id=connector_id
        )
    except GraphError as error:
        return graph_fault_response(request, error, title="Could not read the Exchange connector")
    row = selectors.ExchangeConnectorRow.of(connector, timezone.now())
    if request.htmx and request.GET.get("fragment") == "row":
        return render(request, f"{LIST}#row", {"row": row})
    syncs = list(
        audit_action_list(
            filters=AuditFilters(
                target_type=TargetType.EXCHANGE_CONNECTOR,
                target_id=connector_id,
                action=Action.EXCHANGE_CONNECTOR_SYNC,
            )
        )[:10]
    )
    requested = next((entry for entry in syncs if entry.shown_outcome == Outcome.SUCCEEDED), None)
    return render(
        request,
        DETAIL,
        {
            "row": row,
            "connector": connector,
            "sync": _sync_state(
                connector, requested.created_at, requested.after.get("syncType", "deltaSync")
            )
            if requested
            else None,
            **change_history(TargetType.EXCHANGE_CONNECTOR, connector_id),
            "sync_history": [
                {"entry": entry, "landed": selectors.sync_landed(connector, entry.created_at)}
                for entry in syncs
            ],
            "reported_fields": ExchangeConnectorForm.REPORTED_BY_CONNECTOR,
        },
    )


# -- create -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def exchange_connector_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ExchangeConnectorForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "connectors/exchange/new.html", {"form": form}, status=422)
        try:
            created = services.exchange_connector_create(
                graph=graph_for(request),
                actor=Actor.from_request(request),
                values=form.graph_values(),
            )
        except GraphError as error:
            return graph_fault_response(request, error, title="Graph did not create the connector")
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
    load=lambda graph, connector_id: selectors.exchange_connector_get(
        graph=graph, connector_id=connector_id
    ),
    initial=initial_from,
    save=lambda *, graph, actor, object_id, changes, reason: services.exchange_connector_update(
        graph=graph, actor=actor, connector_id=object_id, changes=changes, reason=reason
    ),
    saved_row=_saved_row,
)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def exchange_connector_edit(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    return reviewed_edit(request, EDIT_FLOW, connector_id, graph=graph_for(request))


# -- delete -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def exchange_connector_delete(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    graph = graph_for(request)
    if request.method == "GET":
        try:
            connector = selectors.exchange_connector_get(graph=graph, connector_id=connector_id)
        except GraphError as error:
            return graph_fault_response(request, error, title="Could not open the connector")
        return render(
            request,
            page_or_partial(request, "connectors/exchange/delete.html", "confirm"),
            {"connector": connector, "reason_required": settings.AUDIT_REQUIRE_REASON},
        )
    reason = request.POST.get("reason", "").strip()
    if len(reason) > 500 or (settings.AUDIT_REQUIRE_REASON and not reason):
        messages.error(request, "Give a reason for the deletion (at most 500 characters).")
        return redirect("exchange:delete", connector_id=connector_id)
    try:
        deleted = services.exchange_connector_delete(
            graph=graph, actor=Actor.from_request(request), connector_id=connector_id, reason=reason
        )
    except GraphError as error:
        return graph_fault_response(request, error, title="Graph did not delete the connector")
    messages.success(request, f"Deleted Exchange connector {deleted.display_name}.")
    return redirect("exchange:list")


# -- sync ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.OPERATOR)
def exchange_connector_sync(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    form = SyncForm(request.POST or request.GET or None)
    if not form.is_valid():
        return HttpResponse("sync_type must be deltaSync or fullSync.", status=400)
    graph = graph_for(request)
    if request.method == "GET":  # the confirmation page a full sync needs without JavaScript
        try:
            connector = selectors.exchange_connector_get(graph=graph, connector_id=connector_id)
        except GraphError as error:
            return graph_fault_response(request, error, title="Could not open the connector")
        return render(
            request,
            page_or_partial(request, "connectors/exchange/sync_confirm.html", "confirm"),
            {"connector": connector, "sync_type": form.cleaned_data["sync_type"]},
        )
    try:
        connector = selectors.exchange_connector_get(graph=graph, connector_id=connector_id)
        sync = services.exchange_connector_sync(
            graph=graph,
            actor=Actor.from_request(request),
            connector_id=connector_id,
            sync_type=form.cleaned_data["sync_type"],
            display_name=connector.display_name,
        )
    except GraphError as error:
        return graph_fault_response(request, error, title="Graph did not start the sync")
    label = "Full sync" if sync.sync_type == "fullSync" else "Quick sync"
    if request.htmx:
        return _sync_fragment(request, connector, sync.requested_at, sync.sync_type)
    messages.success(
        request,
        f"{label} of {connector.display_name} requested at "
        f"{sync.requested_at:%H:%M} UTC. This page shows whether it landed.",
    )
    return redirect("exchange:detail", connector_id=connector_id)


@require_GET
def exchange_connector_sync_status(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    """Polled every 3 s after a sync request: 286 stops the polling once the answer is known."""
    requested_at = parse_graph_datetime(request.GET.get("requested_at", ""))
    sync_type = request.GET.get("sync_type", "deltaSync")
    if requested_at is None or sync_type not in {"deltaSync", "fullSync"}:
        return HttpResponse("requested_at must be an ISO 8601 time with a zone.", status=400)
    try:
        connector = selectors.exchange_connector_get(
            graph=graph_for(request), connector_id=connector_id
        )
    except GraphError as error:
        return graph_fault_response(request, error, title="Could not check the sync")
    return _sync_fragment(request, connector, requested_at, sync_type)


def _sync_fragment(
    request: HtmxHttpRequest, connector: ExchangeConnector, requested_at: datetime, sync_type: str
) -> HttpResponse:
    sync = _sync_state(connector, requested_at, sync_type)
    row = selectors.ExchangeConnectorRow.of(connector, timezone.now())
    fragment = "detail-sync" if request.GET.get("fragment") == "detail" else "row"
    template = f"{DETAIL}#sync-panel" if fragment == "detail-sync" else f"{LIST}#row"
    response = render(request, template, {"row": row, "connector": connector, "sync": sync})
    if sync["state"] != "pending":
        response.status_code = HttpResponseStopPolling.status_code
    return response


def _sync_state(
    connector: ExchangeConnector, requested_at: datetime, sync_type: str
) -> dict[str, object]:
    """Pending until lastSyncDateTime passes the request; "not seen" after the timeout."""
    landed = selectors.sync_landed(connector, requested_at)
    timeout = timedelta(seconds=settings.SYNC_VERIFY_TIMEOUT_SECONDS)
    gave_up = timezone.now() - requested_at > timeout
    return {
        "requested_at": requested_at,
        "sync_type": sync_type,
        "state": "synced" if landed else ("not_seen" if gave_up else "pending"),
        "timeout_minutes": max(1, settings.SYNC_VERIFY_TIMEOUT_SECONDS // 60),
    }


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
    try:
        results = services.exchange_connector_bulk_sync(
            graph=graph_for(request),
            actor=Actor.from_request(request),
            connector_ids=ids,
            sync_type=form.cleaned_data["sync_type"],
        )
    except GraphError as error:
        return graph_fault_response(request, error, title="Graph did not start the syncs")
    refused = sum(result.outcome == Outcome.FAILED for result in results)
    unknown = sum(result.outcome == Outcome.UNKNOWN for result in results)
    if refused or unknown:
        messages.warning(
            request,
            f"Sync requested for {len(results) - refused - unknown} of {len(results)} "
            f"connectors; {refused} refused, {unknown} with an unknown outcome "
            "(see the audit log).",
        )
    else:
        messages.success(request, f"Sync requested for {len(results)} connectors.")
    if request.htmx:
        items = [_bulk_item(result) for result in results]
        context = {"results": items, "refused": refused, "unknown": unknown}
        return render(request, f"{LIST}#bulk-results", context)
    return redirect("exchange:list")


def _bulk_item(result: services.BulkSyncResult) -> dict[str, object]:
    sync: dict[str, object] = {
        "requested_at": result.requested_at,
        "sync_type": result.sync_type,
        "state": {Outcome.FAILED: "refused", Outcome.UNKNOWN: "unknown"}.get(
            result.outcome, "pending"
        ),
    }
    if result.error:
        sync["message"] = graph_fault_message(result.error)
    return {"id": result.connector_id, "sync": sync}

"""The App Proxy connector pages: list (table or by group), detail, edit with review, move."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from audit.models import TargetType
from audit.services import Actor
from connectors import selectors, services
from connectors.forms import (
    AppProxyConnectorEditForm,
    AppProxyConnectorFilterForm,
    ConnectorMoveForm,
    app_proxy_initial,
)
from connectors.graph.errors import GraphError
from connectors.selectors import MIN_ACTIVE_PER_GROUP, AppProxyTenant
from connectors.views.common import (
    HtmxHttpRequest,
    app_proxy_graph_for,
    change_history,
    page_or_partial,
)
from connectors.views.csv_export import csv_response
from connectors.views.editing import EditFlow, reviewed_edit
from connectors.views.listing import query_without, sort_columns
from dashboard.graph_faults import graph_fault_response
from dashboard.roles import Role, role_required

LIST = "connectors/app_proxy/list.html"
DETAIL = "connectors/app_proxy/detail.html"
MOVE = "connectors/app_proxy/move.html"
ROWS_PER_PAGE = 50
COLUMNS = [
    ("machineName", "Machine name"),
    ("externalIp", "External IP"),
    ("status", "Status"),
    ("version", "Version"),
    ("group", "Group"),
]
CSV_COLUMNS = ["id", "machineName", "externalIp", "status", "version", "groupId", "groupName"]


# -- list -------------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def app_proxy_connector_list(request: HtmxHttpRequest) -> HttpResponse:
    form = AppProxyConnectorFilterForm(request.GET, auto_id="filter-%s")
    if not form.is_valid():
        context = {"filter_form": form, "groups": [], "versions": []}
        # htmx swaps a 422 (not a 400), so the field error reaches the filters.
        status = 422 if request.htmx else 400
        return render(request, page_or_partial(request, LIST, "results"), context, status=status)
    try:
        tenant = selectors.app_proxy_tenant_get(graph=app_proxy_graph_for(request))
    except GraphError as error:
        return graph_fault_response(request, error, title="Could not list the App Proxy connectors")
    rows = selectors.app_proxy_connector_list(tenant=tenant, **form.selector_arguments())
    if request.GET.get("format") == "csv":
        return csv_response(
            (
                {
                    "id": row.connector.id,
                    **row.connector.graph_values(),
                    "groupId": row.group.id if row.group else "",
                    "groupName": row.group.name if row.group else "",
                }
                for row in rows
            ),
            columns=CSV_COLUMNS,
            name="app-proxy-connectors",
        )
    context = _list_context(request.GET, form, tenant, rows)
    return render(request, page_or_partial(request, LIST, "results"), context)


def _list_context(
    query: QueryDict,
    form: AppProxyConnectorFilterForm,
    tenant: AppProxyTenant,
    rows: list[selectors.AppProxyConnectorRow],
) -> dict[str, Any]:
    """What the list's results region shows, for the state in `query`."""
    grouped = form.cleaned_data.get("view") == "groups"
    page = Paginator(rows, ROWS_PER_PAGE).get_page(form.cleaned_data.get("page") or 1)
    shown = {row.connector.id for row in rows}
    chosen_group = form.cleaned_data.get("group")
    return {
        "filter_form": form,
        "grouped": grouped,
        "page": page,
        "rows": page.object_list,
        "groups": [row.group for row in tenant.groups],
        "versions": sorted({row.connector.version for row in tenant.connectors} - {""}),
        "group_sections": [
            {
                "row": group_row,
                "rows": [row for row in rows if row.group and row.group.id == group_row.group.id],
            }
            for group_row in sorted(
                tenant.groups, key=lambda g: (not g.group.is_default, g.group.name.lower())
            )
            if not chosen_group or group_row.group.id == chosen_group
        ],
        "ungrouped": [row for row in rows if row.group is None and row.connector.id in shown],
        "min_active": MIN_ACTIVE_PER_GROUP,
        "query": query_without(query, "page", "format"),
        "columns": sort_columns(query, COLUMNS, form.current_sort()),
        "filtered": any(
            form.cleaned_data.get(name) for name in ("q", "status", "group", "version")
        ),
        "total": len(tenant.connectors),
    }


# -- detail -----------------------------------------------------------------------------------


@require_GET
def app_proxy_connector_detail(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    graph = app_proxy_graph_for(request)
    try:
        connector = selectors.app_proxy_connector_get(graph=graph, connector_id=connector_id)
        group = selectors.app_proxy_connector_group_get(graph=graph, connector_id=connector_id)
    except GraphError as error:
        return graph_fault_response(request, error, title="Could not read the App Proxy connector")
    return render(
        request,
        DETAIL,
        {
            "connector": connector,
            "group": group,
            **change_history(TargetType.APP_PROXY_CONNECTOR, connector_id),
        },
    )


# -- edit: form → review → save (connectors.views.editing) ---------------------------------------

EDIT_FLOW = EditFlow(
    namespace="app_proxy",
    noun="App Proxy connector",
    list_label="App Proxy connectors",
    form_class=AppProxyConnectorEditForm,
    name_field="machineName",
    load=lambda graph, connector_id: selectors.app_proxy_connector_get(
        graph=graph, connector_id=connector_id
    ),
    initial=app_proxy_initial,
    save=lambda *, graph, actor, object_id, changes, reason: services.app_proxy_connector_update(
        graph=graph, actor=actor, connector_id=object_id, changes=changes, reason=reason
    ),
)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def app_proxy_connector_edit(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    return reviewed_edit(request, EDIT_FLOW, connector_id, graph=app_proxy_graph_for(request))


# -- move -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def app_proxy_connector_move(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    """GET: the confirmation (a dialog for htmx, a page without JavaScript); POST: the move."""
    graph = app_proxy_graph_for(request)
    if request.method == "GET":
        try:
            tenant = selectors.app_proxy_tenant_get(graph=graph)
        except GraphError as error:
            return graph_fault_response(request, error, title="Could not open the connector")
        row = tenant.connector(connector_id)
        if row is None:
            return render(
                request,
                "dashboard/error.html",
                {"title": "No such connector", "message": "Graph has no such App Proxy connector."},
                status=404,
            )
        from_row = tenant.group(row.group.id) if row.group else None
        remaining = from_row.active - (1 if row.connector.is_active else 0) if from_row else None
        offer = ConnectorMoveForm.sign_offer(
            row.connector,
            row.group,
            [group_row.group for group_row in tenant.movable_groups()],
            remaining_active=remaining,
        )
        form = ConnectorMoveForm(
            initial={"offer": offer, "back": _back_query(request)}, connector_id=connector_id
        )
        return _render_move(request, form)

    form = ConnectorMoveForm(request.POST, connector_id=connector_id)
    # htmx swaps 422 into the dialog (its config leaves 400 alone); a plain request gets 400.
    refused = 422 if request.htmx else 400
    if not form.is_valid():
        return _render_move(request, form, status=refused)
    if settings.AUDIT_REQUIRE_REASON and not form.cleaned_data["reason"].strip():
        form.add_error("reason", "This field is required: say why you move the connector.")
        return _render_move(request, form, status=refused)
    to_group = form.to_group
    try:
        services.app_proxy_connector_move(
            graph=graph,
            actor=Actor.from_request(request),
            connector=form.connector,
            from_group=form.from_group,
            to_group=to_group,
            reason=form.cleaned_data["reason"],
        )
    except services.ChangeRefused as refusal:
        form.add_error("group", refusal.message)
        return _render_move(request, form, status=refused)
    except GraphError as error:
        return graph_fault_response(request, error, title="Graph did not move the connector")
    messages.success(request, f"Moved {form.connector.display_name} to {to_group.display_name}.")
    back = QueryDict(request.POST.get("back", ""))
    if not request.htmx:
        return redirect(f"{reverse('app_proxy:list')}?{back.urlencode() or 'view=groups'}")
    return _moved_results(request, back)


def _back_query(request: HtmxHttpRequest) -> str:
    """The list state the dialog was opened from, so the list can be shown again after the move."""
    current = (request.htmx.current_url or "") if request.htmx else ""
    return current.partition("?")[2] if reverse("app_proxy:list") in current else ""


def _render_move(
    request: HtmxHttpRequest, form: ConnectorMoveForm, *, status: int = 200
) -> HttpResponse:
    remaining = form.remaining_active if form.offer else None
    context = {
        "form": form,
        "connector": form.connector if form.offer else None,
        "from_group": form.from_group if form.offer else None,
        "connector_id": form.connector_id,
        "remaining_active": remaining,
        "leaves_too_few": remaining is not None and remaining < MIN_ACTIVE_PER_GROUP,
        "min_active": MIN_ACTIVE_PER_GROUP,
        "back": form.data.get("back", "") if form.is_bound else form.initial.get("back", ""),
        "reason_required": settings.AUDIT_REQUIRE_REASON,
    }
    return render(request, page_or_partial(request, MOVE, "confirm"), context, status=status)


def _moved_results(request: HtmxHttpRequest, back: QueryDict) -> HttpResponse:
    """The list's results region as it is after the move; the dialog closes."""
    form = AppProxyConnectorFilterForm(back, auto_id="filter-%s")
    if not form.is_valid():
        form = AppProxyConnectorFilterForm(QueryDict("view=groups"), auto_id="filter-%s")
        form.is_valid()
    try:
        tenant = selectors.app_proxy_tenant_get(graph=app_proxy_graph_for(request))
    except GraphError as error:
        return graph_fault_response(request, error, title="Could not list the App Proxy connectors")
    rows = selectors.app_proxy_connector_list(tenant=tenant, **form.selector_arguments())
    response = render(request, f"{LIST}#results", _list_context(back, form, tenant, rows))
    response["HX-Retarget"] = "#results"
    trigger_client_event(response, "dialog:close")
    return response

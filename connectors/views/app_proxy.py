"""The App Proxy connector pages: list (table or by group), detail, edit with review, move."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import retarget, trigger_client_event

from audit.models import TargetType
from audit.services import Actor
from connectors import selectors, services
from connectors.errors import ChangeRefused
from connectors.forms import (
    AppProxyConnectorEditForm,
    AppProxyConnectorFilterForm,
    ConnectorMoveForm,
    app_proxy_initial,
)
from connectors.selectors import MIN_ACTIVE_PER_GROUP, AppProxyTenant
from connectors.views.common import change_history
from connectors.views.csv_export import csv_response
from connectors.views.editing import EditFlow, reviewed_edit
from kernel.graph_clients import graph_for
from kernel.htmx import HtmxHttpRequest, form_error_status, page_or_partial
from kernel.listing import list_page, query_without, sort_columns
from kernel.roles import Role, role_required

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
        return render(
            request,
            page_or_partial(request, LIST, "results"),
            context,
            status=form_error_status(request),
        )
    tenant = selectors.app_proxy_tenant_get(
        graph=graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES)
    )
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
    context = _list_context(request, request.GET, form, tenant, rows)
    return render(request, page_or_partial(request, LIST, "results"), context)


def _list_context(
    request: HtmxHttpRequest,
    query: QueryDict,
    form: AppProxyConnectorFilterForm,
    tenant: AppProxyTenant,
    rows: list[selectors.AppProxyConnectorRow],
) -> dict[str, Any]:
    """What the list's results region shows, for the state in `query`."""
    grouped = form.cleaned_data.get("view") == "groups"
    page = list_page(request, rows, form.cleaned_data.get("page"), ROWS_PER_PAGE)
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
    graph = graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES)
    connector = selectors.app_proxy_connector_get(graph=graph, connector_id=connector_id)
    group = selectors.app_proxy_connector_group_get(graph=graph, connector_id=connector_id)
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
    load=selectors.app_proxy_connector_get,
    initial=app_proxy_initial,
    save=services.app_proxy_connector_update,
    scopes=settings.APP_PROXY_GRAPH_SCOPES,
)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def app_proxy_connector_edit(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    return reviewed_edit(request, EDIT_FLOW, connector_id=connector_id)


# -- move -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def app_proxy_connector_move(request: HtmxHttpRequest, connector_id: str) -> HttpResponse:
    """GET: the confirmation (a dialog for htmx, a page without JavaScript); POST: the move."""
    graph = graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES)
    if request.method == "GET":
        tenant = selectors.app_proxy_tenant_get(graph=graph)
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
    if not form.is_valid():
        return _render_move(request, form, status=form_error_status(request))
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
    except ChangeRefused as refusal:
        # Deliberately inline: the refusal belongs to the group field of the open dialog.
        form.add_error("group", refusal.message)
        return _render_move(request, form, status=form_error_status(request))
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
    tenant = selectors.app_proxy_tenant_get(
        graph=graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES)
    )
    rows = selectors.app_proxy_connector_list(tenant=tenant, **form.selector_arguments())
    response = render(request, f"{LIST}#results", _list_context(request, back, form, tenant, rows))
    trigger_client_event(response, "dialog:close")
    return retarget(response, "#results")

"""The App Proxy connector group pages: list, create, detail, rename / re-region, delete."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from audit.models import TargetType
from audit.services import Actor
from connectors import selectors, services
from connectors.forms import ConnectorGroupEditForm, ConnectorGroupForm
from connectors.graph.errors import GraphError
from connectors.views.common import (
    HtmxHttpRequest,
    app_proxy_graph_for,
    change_history,
    page_or_partial,
)
from connectors.views.editing import EditFlow, reviewed_edit
from dashboard.graph_faults import graph_fault_response
from dashboard.roles import Role, role_required

LIST = "connectors/app_proxy/groups.html"
NEW = "connectors/app_proxy/group_new.html"
DETAIL = "connectors/app_proxy/group_detail.html"
DELETE = "connectors/app_proxy/group_delete.html"


@require_GET
@vary_on_headers("HX-Request")
def connector_group_list(request: HtmxHttpRequest) -> HttpResponse:
    try:
        tenant = selectors.app_proxy_tenant_get(
            graph=app_proxy_graph_for(request), with_applications=True
        )
    except GraphError as error:
        return graph_fault_response(request, error, title="Could not list the connector groups")
    groups = sorted(
        tenant.groups, key=lambda row: (not row.group.is_default, row.group.name.lower())
    )
    return render(request, LIST, {"groups": groups, "min_active": selectors.MIN_ACTIVE_PER_GROUP})


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def connector_group_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ConnectorGroupForm(request.POST or None, auto_id="group-%s")
    context = {"form": form, "reason_required": settings.AUDIT_REQUIRE_REASON}
    if request.method == "GET":
        return render(request, NEW, context)
    reason = request.POST.get("reason", "").strip()
    if not form.is_valid() or not _reason_ok(request, reason):
        return render(request, NEW, context, status=422)
    try:
        created = services.connector_group_create(
            graph=app_proxy_graph_for(request),
            actor=Actor.from_request(request),
            name=form.cleaned_data["name"],
            region=form.cleaned_data["region"],
            reason=reason,
        )
    except GraphError as error:
        return graph_fault_response(request, error, title="Graph did not create the group")
    messages.success(request, f"Created connector group {created.display_name}.")
    return redirect("connector_groups:list")


def _reason_ok(request: HtmxHttpRequest, reason: str) -> bool:
    if len(reason) > 500 or (settings.AUDIT_REQUIRE_REASON and not reason):
        messages.error(request, "Give a reason for the change (at most 500 characters).")
        return False
    return True


@require_GET
def connector_group_detail(request: HtmxHttpRequest, group_id: str) -> HttpResponse:
    try:
        row = selectors.connector_group_row_get(
            graph=app_proxy_graph_for(request), group_id=group_id
        )
    except GraphError as error:
        return graph_fault_response(request, error, title="Could not read the connector group")
    return render(
        request,
        DETAIL,
        {
            "row": row,
            "group": row.group,
            "min_active": selectors.MIN_ACTIVE_PER_GROUP,
            **change_history(TargetType.CONNECTOR_GROUP, group_id),
        },
    )


EDIT_FLOW = EditFlow(
    namespace="connector_groups",
    noun="connector group",
    list_label="Connector groups",
    form_class=ConnectorGroupEditForm,
    name_field="name",
    # With its connectors and applications: the form locks the region of a group in use.
    load=lambda graph, group_id: selectors.connector_group_row_get(graph=graph, group_id=group_id),
    initial=lambda row: dict(row.graph_values()),
    save=lambda *, graph, actor, object_id, changes, reason: services.connector_group_update(
        graph=graph, actor=actor, group_id=object_id, changes=changes, reason=reason
    ),
)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def connector_group_edit(request: HtmxHttpRequest, group_id: str) -> HttpResponse:
    return reviewed_edit(request, EDIT_FLOW, group_id, graph=app_proxy_graph_for(request))


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def connector_group_delete(request: HtmxHttpRequest, group_id: str) -> HttpResponse:
    """Only an empty, non-default group; otherwise the reason is shown and nothing is sent."""
    graph = app_proxy_graph_for(request)
    if request.method == "GET":
        try:
            row = selectors.connector_group_row_get(graph=graph, group_id=group_id)
        except GraphError as error:
            return graph_fault_response(request, error, title="Could not open the group")
        return render(
            request,
            page_or_partial(request, DELETE, "confirm"),
            {"row": row, "group": row.group, "reason_required": settings.AUDIT_REQUIRE_REASON},
        )
    reason = request.POST.get("reason", "").strip()
    if not _reason_ok(request, reason):
        return redirect("connector_groups:delete", group_id=group_id)
    try:
        deleted = services.connector_group_delete(
            graph=graph, actor=Actor.from_request(request), group_id=group_id, reason=reason
        )
    except services.ChangeRefused as refused:
        return render(
            request,
            "dashboard/error.html",
            {"title": "This group cannot be deleted", "message": refused.message},
            status=409,
        )
    except GraphError as error:
        return graph_fault_response(request, error, title="Graph did not delete the group")
    messages.success(request, f"Deleted connector group {deleted.display_name}.")
    return redirect("connector_groups:list")

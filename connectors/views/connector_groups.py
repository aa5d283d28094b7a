"""The App Proxy connector group pages: list, create, detail, rename / re-region, delete."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from audit.models import TargetType
from audit.reasons import ReasonForm
from audit.services import Actor
from connectors import selectors, services
from connectors.forms import ConnectorGroupCreateForm, ConnectorGroupEditForm, group_initial
from connectors.views.common import change_history
from connectors.views.editing import EditFlow, reviewed_edit
from kernel.graph_clients import graph_for
from kernel.htmx import HtmxHttpRequest, form_error_status, page_or_partial
from kernel.roles import Role, role_required

LIST = "connectors/app_proxy/groups.html"
NEW = "connectors/app_proxy/group_new.html"
DETAIL = "connectors/app_proxy/group_detail.html"
DELETE = "connectors/app_proxy/group_delete.html"


@require_GET
@vary_on_headers("HX-Request")
def connector_group_list(request: HtmxHttpRequest) -> HttpResponse:
    tenant = selectors.app_proxy_tenant_get(
        graph=graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES), with_applications=True
    )
    groups = sorted(
        tenant.groups, key=lambda row: (not row.group.is_default, row.group.name.lower())
    )
    return render(request, LIST, {"groups": groups, "min_active": selectors.MIN_ACTIVE_PER_GROUP})


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def connector_group_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ConnectorGroupCreateForm(request.POST or None, auto_id="group-%s")
    context = {"form": form, "reason_required": settings.AUDIT_REQUIRE_REASON}
    if request.method == "GET":
        return render(request, NEW, context)
    if not form.is_valid():
        return render(request, NEW, context, status=form_error_status(request))
    created = services.connector_group_create(
        graph=graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES),
        actor=Actor.from_request(request),
        name=form.cleaned_data["name"],
        region=form.cleaned_data["region"],
        reason=form.cleaned_data["reason"],
    )
    messages.success(request, f"Created connector group {created.display_name}.")
    return redirect("connector_groups:list")


@require_GET
def connector_group_detail(request: HtmxHttpRequest, group_id: str) -> HttpResponse:
    row = selectors.connector_group_row_get(
        graph=graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES), group_id=group_id
    )
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
    load=selectors.connector_group_row_get,
    initial=group_initial,
    save=services.connector_group_update,
    scopes=settings.APP_PROXY_GRAPH_SCOPES,
)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def connector_group_edit(request: HtmxHttpRequest, group_id: str) -> HttpResponse:
    return reviewed_edit(request, EDIT_FLOW, group_id=group_id)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def connector_group_delete(request: HtmxHttpRequest, group_id: str) -> HttpResponse:
    """Only an empty, non-default group; otherwise the reason is shown and nothing is sent."""
    graph = graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES)
    if request.method == "GET":
        row = selectors.connector_group_row_get(graph=graph, group_id=group_id)
        return render(
            request,
            page_or_partial(request, DELETE, "confirm"),
            {"row": row, "group": row.group, "reason_required": settings.AUDIT_REQUIRE_REASON},
        )
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reason"]))
        return redirect("connector_groups:delete", group_id=group_id)
    deleted = services.connector_group_delete(
        graph=graph,
        actor=Actor.from_request(request),
        group_id=group_id,
        reason=form.cleaned_data["reason"],
    )
    messages.success(request, f"Deleted connector group {deleted.display_name}.")
    return redirect("connector_groups:list")

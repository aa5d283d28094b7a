"""The drift page of a tenant: its baseline (record, re-record), its drift now, and accepting it.

Views parse, call one service and render; refusals and Graph faults leave through the one fault
path (kernel.faults), so none is caught here.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from audit.services import Actor
from kernel.graph_clients import graph_for
from kernel.htmx import form_error_status
from kernel.roles import Role, role_required
from kernel.tenancy import acting_tenant_id, request_tenant
from watch import drift_baselines, drift_receiver, drift_selectors
from watch.drift_forms import BaselineRecordForm, DriftAcceptForm
from watch.models import BaselineSource


def _tenant_name(request: HttpRequest) -> str:
    tenant = request_tenant(request)
    return tenant.label if tenant else acting_tenant_id(request)


def _page(
    request: HttpRequest,
    *,
    record_form: BaselineRecordForm | None = None,
    accept_form: DriftAcceptForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "watch/drift.html",
        {
            "drift": drift_selectors.drift_page(acting_tenant_id(request)),
            "tenant_name": _tenant_name(request),
            "record_form": record_form or BaselineRecordForm(),
            "accept_form": accept_form,
        },
        status=status,
    )


@require_GET
def drift_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@role_required(Role.ADMIN)
def baseline_record(request: HttpRequest) -> HttpResponse:
    form = BaselineRecordForm(request.POST)
    if not form.is_valid():
        return _page(request, record_form=form, status=form_error_status(request))
    tenant_id = acting_tenant_id(request)
    source = form.cleaned_data["source"]
    if source == BaselineSource.GRAPH:
        snapshot = drift_baselines.graph_snapshot(
            exchange_graph=graph_for(request),
            app_proxy_graph=graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES),
        )
    else:
        latest = drift_baselines.latest_snapshot(tenant_id)
        snapshot = latest.seen if latest is not None else {}
    baseline = drift_baselines.record(
        actor=Actor.from_request(request),
        tenant_id=tenant_id,
        tenant_name=_tenant_name(request),
        snapshot=snapshot,
        source=source,
    )
    messages.success(
        request,
        f"Recorded the baseline from {baseline.get_source_display().lower()}: "
        f"{baseline.items.count()} objects. Each sweep now compares with it.",
    )
    return redirect("drift:page")


@require_POST
@role_required(Role.ADMIN)
def drift_accept(request: HttpRequest) -> HttpResponse:
    form = DriftAcceptForm(request.POST)
    if not form.is_valid():
        return _page(request, accept_form=form, status=form_error_status(request))
    tenant_id = acting_tenant_id(request)
    finding = drift_baselines.accept(
        actor=Actor.from_request(request),
        tenant_id=tenant_id,
        kind=form.cleaned_data["kind"],
        object_id=form.cleaned_data["object_id"],
    )
    # The drift incident resolves now, not at the next sweep.
    drift_receiver.publish(tenant_id, reason="drift-accepted")
    messages.success(request, f"Accepted the drift of {finding.name}: the baseline has it now.")
    back = request.POST.get("next", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}
    ):
        return redirect(back)
    return redirect("drift:page")

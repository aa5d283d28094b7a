"""A tenant's drift page (`/t/<tenant>/watch/drift/`): its baseline and the changes found since.
Everyone signed in sees it; Admins record the baseline, check now and accept a change."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from audit.services import Actor
from graph.client import GraphClient
from kernel.graph_clients import graph_for
from kernel.htmx import HtmxHttpRequest
from kernel.roles import Role, role_required
from kernel.tenancy import acting_tenant_id
from watch import drift
from watch.models import DriftBaseline, DriftFinding, DriftStatus

RECENTLY_CLOSED = 20


def _graph(request: HtmxHttpRequest) -> GraphClient:
    """Exchange connectors and App Proxy groups in one client: both permissions (the App Proxy
    one asked for incrementally, as the App Proxy pages do)."""
    return graph_for(request, scopes=[*settings.GRAPH_SCOPES, *settings.APP_PROXY_GRAPH_SCOPES])


@require_GET
def drift_page(request: HtmxHttpRequest) -> HttpResponse:
    tenant_id = acting_tenant_id(request)
    findings = DriftFinding.objects.filter(tenant_id=tenant_id)
    return render(
        request,
        "watch/drift/page.html",
        {
            "baseline": DriftBaseline.objects.filter(tenant_id=tenant_id).first(),
            "open": list(findings.filter(status=DriftStatus.OPEN)),
            "closed": list(
                findings.exclude(status=DriftStatus.OPEN).order_by("-closed_at")[:RECENTLY_CLOSED]
            ),
        },
    )


@require_POST
@role_required(Role.ADMIN)
def drift_record(request: HtmxHttpRequest) -> HttpResponse:
    baseline = drift.record_baseline(
        actor=Actor.from_request(request),
        tenant_id=acting_tenant_id(request),
        graph=_graph(request),
    )
    messages.success(request, f"Baseline recorded: {len(baseline.state)} objects.")
    return redirect("drift:page")


@require_POST
@role_required(Role.ADMIN)
def drift_check_now(request: HtmxHttpRequest) -> HttpResponse:
    found = drift.check(tenant_id=acting_tenant_id(request), graph=_graph(request))
    messages.info(request, f"Checked: {len(found)} open change{'' if len(found) == 1 else 's'}.")
    return redirect("drift:page")


@require_POST
@role_required(Role.ADMIN)
def drift_accept(request: HtmxHttpRequest, finding_id: int) -> HttpResponse:
    finding = get_object_or_404(
        DriftFinding, pk=finding_id, tenant_id=acting_tenant_id(request), status=DriftStatus.OPEN
    )
    drift.accept(actor=Actor.from_request(request), finding=finding)
    messages.success(
        request, f"Accepted: {finding.object_name} {finding.field} is now part of the baseline."
    )
    return redirect("drift:page")

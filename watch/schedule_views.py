"""The scheduled-sync pages of a tenant (`/t/<tenant>/watch/schedules/`): everyone signed in
sees them; Admins create, edit, pause, resume and delete (each audited by `watch.schedules`)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import Actor
from connectors.selectors import exchange_connector_list
from kernel.graph_clients import graph_for
from kernel.htmx import HtmxHttpRequest, form_error_status
from kernel.roles import Role, role_required
from kernel.tenancy import acting_tenant_id, request_tenant
from watch import schedules
from watch.models import ScheduledSync
from watch.schedule_forms import ScheduledSyncForm
from watch.schedule_selectors import schedule_rows

FORM = "watch/schedules/form.html"


def _tenant_schedule(request: HtmxHttpRequest, schedule_id: int) -> ScheduledSync:
    """A schedule of the request's tenant only: another tenant's id is a 404 here."""
    return get_object_or_404(ScheduledSync, pk=schedule_id, tenant_id=acting_tenant_id(request))


@require_GET
def schedule_list(request: HtmxHttpRequest) -> HttpResponse:
    tenant_id = acting_tenant_id(request)
    return render(
        request,
        "watch/schedules/list.html",
        {"rows": schedule_rows(tenant_id=tenant_id, now=timezone.now())},
    )


def _connectors(request: HtmxHttpRequest) -> dict[str, str]:
    """The tenant's Exchange connectors to pick from (one paged Graph list)."""
    rows = exchange_connector_list(graph=graph_for(request), now=timezone.now())
    return {row.connector.id: row.connector.display_name for row in rows}


def _form_page(
    request: HtmxHttpRequest, form: ScheduledSyncForm, schedule: ScheduledSync | None
) -> HttpResponse:
    status = form_error_status(request) if form.is_bound else 200
    return render(request, FORM, {"form": form, "schedule": schedule}, status=status)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def schedule_create(request: HtmxHttpRequest) -> HttpResponse:
    tenant_id = acting_tenant_id(request)
    form = ScheduledSyncForm(
        request.POST or None,
        tenant_id=tenant_id,
        connectors=_connectors(request),
        initial={"timezone": "UTC", "every_minutes": 60},
    )
    if request.method != "POST":
        form.fields["timezone"].widget.attrs["data-browser-time-zone"] = ""
        return _form_page(request, form, None)
    if not form.is_valid():
        return _form_page(request, form, None)
    tenant = request_tenant(request)
    schedule = schedules.schedule_create(
        actor=Actor.from_request(request),
        tenant_id=tenant_id,
        tenant_name=tenant.label if tenant else "",
        spec=form.spec(),
    )
    messages.success(request, f"Scheduled sync '{schedule.name}' created.")
    return redirect("schedules:list")


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def schedule_edit(request: HtmxHttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _tenant_schedule(request, schedule_id)
    form = ScheduledSyncForm(
        request.POST or None,
        tenant_id=schedule.tenant_id,
        connectors=_connectors(request),
        instance=schedule,
        initial=ScheduledSyncForm.initial_for(schedule),
    )
    if request.method != "POST" or not form.is_valid():
        return _form_page(request, form, schedule)
    schedules.schedule_update(
        actor=Actor.from_request(request), schedule=schedule, spec=form.spec()
    )
    messages.success(request, f"Scheduled sync '{schedule.name}' saved.")
    return redirect("schedules:list")


def _set_paused(request: HtmxHttpRequest, schedule_id: int, *, paused: bool) -> HttpResponse:
    schedule = _tenant_schedule(request, schedule_id)
    schedules.schedule_pause(actor=Actor.from_request(request), schedule=schedule, paused=paused)
    messages.success(
        request, f"Scheduled sync '{schedule.name}' {'paused' if paused else 'resumed'}."
    )
    return redirect("schedules:list")


@require_POST
@role_required(Role.ADMIN)
def schedule_pause(request: HtmxHttpRequest, schedule_id: int) -> HttpResponse:
    return _set_paused(request, schedule_id, paused=True)


@require_POST
@role_required(Role.ADMIN)
def schedule_resume(request: HtmxHttpRequest, schedule_id: int) -> HttpResponse:
    return _set_paused(request, schedule_id, paused=False)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def schedule_delete(request: HtmxHttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _tenant_schedule(request, schedule_id)
    if request.method != "POST":
        return render(request, "watch/schedules/delete.html", {"schedule": schedule})
    name = schedule.name
    schedules.schedule_delete(actor=Actor.from_request(request), schedule=schedule)
    messages.success(request, f"Scheduled sync '{name}' deleted.")
    return redirect("schedules:list")

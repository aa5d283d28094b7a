"""The watch inside a tenant (`/t/<tenant>/watch/…`): its objects' history, read from the
watch's own rows (never from Graph), and how the watch sweeps it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from kernel.htmx import form_error_status
from kernel.roles import Role, role_required
from kernel.tenancy import acting_tenant_id, request_tenant
from tenants.models import ManagedTenant
from watch import timelines
from watch.forms import WatchedTenantForm
from watch.models import WatchedTenant
from watch.observations import ObjectKind

# Worst first: what needs attention leads the list.
ORDER = {"tl-bad": 0, "tl-warn": 1, "tl-unknown": 2, "tl-good": 3}


@require_GET
def history_list(request: HttpRequest) -> HttpResponse:
    tenant_id = acting_tenant_id(request)
    histories = timelines.tenant_histories(tenant_id, now=timezone.now())
    histories.sort(
        key=lambda h: (
            ORDER[h.tone],
            list(ObjectKind).index(h.state.kind),
            h.state.name.lower(),
        )
    )
    return render(
        request,
        "watch/history.html",
        {"tenant": request_tenant(request), "histories": histories},
    )


@require_GET
def history_detail(request: HttpRequest, kind: str, object_id: str) -> HttpResponse:
    found = None
    if kind in ObjectKind.values:
        found = timelines.object_history(
            acting_tenant_id(request), kind, object_id, now=timezone.now()
        )
    if found is None:
        context = {
            "title": "No history here",
            "message": (
                f"The watch has not seen {object_id} ({kind}) in this tenant: its sweeps record "
                "an object's history from the first sweep that reads it."
            ),
            "back": reverse("watch_tenant:history"),
        }
        return render(request, "dashboard/graph_error.html", context, status=404)
    history, changes = found
    return render(
        request,
        "watch/object_history.html",
        {"tenant": request_tenant(request), "history": history, "changes": changes},
    )


def _settings_page(
    request: HttpRequest, tenant: ManagedTenant, form: WatchedTenantForm, status: int = 200
) -> HttpResponse:
    context = {"tenant": request_tenant(request), "managed": tenant, "form": form}
    return render(request, "watch/tenant_settings.html", context, status=status)


def _managed(request: HttpRequest) -> ManagedTenant | None:
    return ManagedTenant.objects.filter(tenant_id=acting_tenant_id(request)).first()


NOT_MANAGED = {
    "title": "Not a managed tenant yet",
    "message": "The watch sweeps the tenants on the tenants page: open it once (or discover your "
    "GDAP customers there) first.",
    "back": "/tenants/",
}


@require_http_methods(["GET", "POST"])
def watch_settings(request: HttpRequest) -> HttpResponse:
    """How the watch sweeps this tenant: on or off, and its own interval (Admins change it)."""
    if request.method == "POST":
        return _save_settings(request)
    tenant = _managed(request)
    if tenant is None:
        return render(request, "dashboard/graph_error.html", NOT_MANAGED, status=404)
    setting = WatchedTenant.objects.filter(tenant=tenant).first()
    initial = {
        "enabled": setting.enabled if setting else True,
        "interval_seconds": setting.interval_seconds if setting else None,
    }
    return _settings_page(request, tenant, WatchedTenantForm(initial=initial))


@role_required(Role.ADMIN)
def _save_settings(request: HttpRequest) -> HttpResponse:
    tenant = _managed(request)
    if tenant is None:
        return render(request, "dashboard/graph_error.html", NOT_MANAGED, status=404)
    form = WatchedTenantForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, tenant, form, status=form_error_status(request))
    WatchedTenant.objects.update_or_create(tenant=tenant, defaults=form.cleaned_data)
    every = form.cleaned_data["interval_seconds"] or settings.WATCH_SWEEP_INTERVAL_SECONDS
    if form.cleaned_data["enabled"]:
        messages.success(request, f"The watch sweeps {tenant.label} every {every} seconds.")
    else:
        messages.success(request, f"The watch leaves {tenant.label} alone.")
    return redirect("watch_tenant:settings")

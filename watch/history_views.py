"""A tenant's watched objects and their history (`/t/<tenant>/watch/history/…`): read from the
watch's own rows, never from Graph."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from kernel.tenancy import acting_tenant_id, request_tenant
from watch import drift_selectors, timelines
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
        {
            "tenant": request_tenant(request),
            "history": history,
            "changes": changes,
            "settings_changes": drift_selectors.object_changes(
                tenant_id=acting_tenant_id(request), kind=kind, object_id=object_id
            ),
        },
    )

"""The tenants pages: parse, check the role, call one service or selector, render."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from kernel.csv_export import csv_cell, csv_download, csv_writer
from kernel.graph_clients import graph_client_for_session, graph_for, graph_for_each_tenant
from kernel.htmx import form_error_status
from kernel.identity import admin_consent_url
from kernel.listing import query_without
from kernel.roles import Role, role_required
from kernel.tenancy import home_tenant_id
from tenants import selectors, services
from tenants.forms import TenantAddForm, TenantHealthFilterForm, TenantRefreshForm
from tenants.models import ManagedTenant
from tenants.services import refresh_chunk_size, refresh_step_seconds

# Where the switcher lands in the other tenant: the same section, never an object of this one.
SECTION_PATHS = ("app-proxy/groups/", "app-proxy/connectors/", "audit/intune/", "audit/")


def _consent_link(request: HttpRequest, tenant_id: str) -> str:
    return admin_consent_url(tenant_id, request.build_absolute_uri(reverse("tenants:consented")))


def _ensure_home(request: HttpRequest) -> None:
    services.home_tenant_ensure(tenant_id=home_tenant_id(request))


@require_GET
def tenant_list(request: HttpRequest) -> HttpResponse:
    _ensure_home(request)
    return render(
        request,
        "tenants/list.html",
        _list_context(request, TenantAddForm(), query=request.GET.get("q", "")),
    )


def _list_context(request: HttpRequest, add_form: TenantAddForm, query: str = "") -> dict:
    rows = selectors.tenant_rows(now=timezone.now(), query=query)
    entries = [
        (row, _consent_link(request, row.tenant.tenant_id) if row.state == "consent_needed" else "")
        for row in rows
    ]
    return {"entries": entries, "add_form": add_form, "q": query}


@require_POST
@role_required(Role.ADMIN)
def tenants_discover(request: HttpRequest) -> HttpResponse:
    """Customers from the partner's GDAP relationships (asks for the permission once)."""
    graph = graph_client_for_session(
        request.session,
        tenant=home_tenant_id(request),
        scopes=settings.TENANTS_GRAPH_SCOPES,
        base_url=settings.GRAPH_V1_BASE_URL,
    )
    found = services.tenants_discover(graph=graph, home_tenant_id=home_tenant_id(request))
    messages.success(request, f"Found {found} customer tenant{'s' if found != 1 else ''} in GDAP.")
    return redirect("tenants:list")


@require_POST
@role_required(Role.ADMIN)
def tenant_add(request: HttpRequest) -> HttpResponse:
    form = TenantAddForm(request.POST)
    if not form.is_valid():
        _ensure_home(request)
        context = _list_context(request, form)
        return render(request, "tenants/list.html", context, status=form_error_status(request))
    tenant = services.tenant_add(value=form.cleaned_data["tenant"])
    services.tenant_access_check(tenant=tenant, graph=graph_for(request, tenant=tenant.tenant_id))
    messages.success(request, f"Added {tenant.label}.")
    return redirect("tenants:list")


@require_POST
@role_required(Role.OPERATOR)
def tenants_check(request: HttpRequest) -> HttpResponse:
    """Ask each tenant's token endpoint whether the user gets a token there."""
    _ensure_home(request)
    for tenant in selectors.managed_tenant_list():
        services.tenant_access_check(
            tenant=tenant, graph=graph_for(request, tenant=tenant.tenant_id)
        )
    messages.success(request, "Checked your access to every tenant.")
    return redirect("tenants:list")


@require_GET
def tenant_consented(request: HttpRequest) -> HttpResponse:
    """Where Entra's admin-consent page sends the browser back."""
    tenant_id = request.GET.get("tenant", "")
    tenant = selectors.managed_tenant_get(segment=tenant_id) if tenant_id else None
    if request.GET.get("admin_consent") == "True" and tenant is not None:
        services.tenant_access_check(
            tenant=tenant, graph=graph_for(request, tenant=tenant.tenant_id)
        )
        messages.success(request, f"Admin consent granted in {tenant.label}.")
    else:
        reason = request.GET.get("error_description") or "Admin consent was not granted."
        messages.error(request, reason)
    return redirect("tenants:list")


def _section(path: str) -> str:
    rest = path.split("/", 3)[3] if path.startswith("/t/") and path.count("/") >= 3 else ""
    return next(
        (section for section in SECTION_PATHS if rest.startswith(section)), "exchange-connectors/"
    )


# The switcher offers this many matches as one types (an MSP has hundreds of tenants).
SWITCHER_MATCHES = 20


@require_GET
def tenant_options(request: HttpRequest) -> HttpResponse:
    """The switcher's suggestions: tenants whose name, domain or id contains what was typed."""
    typed = request.GET.get("tenant", "").split("·")[0].strip()
    options = selectors.managed_tenant_list(query=typed)[:SWITCHER_MATCHES]
    return render(request, "tenants/_options.html", {"options": options})


@require_GET
def tenant_switch(request: HttpRequest) -> HttpResponse:
    """The header's switcher: a tenant picked by name, domain or id → the same section there."""
    value = request.GET.get("tenant", "").strip()
    tenant = selectors.managed_tenant_get(segment=value) or _by_label(value)
    if tenant is None:
        messages.error(request, f"No managed tenant matches “{value}”.")
        return redirect("tenants:list")
    referer = request.GET.get("from", "")
    return HttpResponseRedirect(f"/t/{tenant.tenant_id}/{_section(referer)}")


def _by_label(value: str) -> ManagedTenant | None:
    """The switcher's options read "Name · domain · id": the id is what names the tenant."""
    for part in reversed(value.split("·")):
        try:
            found = selectors.managed_tenant_get(segment=str(uuid.UUID(part.strip())))
        except ValueError:
            continue
        if found is not None:
            return found
    matches = list(selectors.managed_tenant_list(query=value)[:2])
    return matches[0] if len(matches) == 1 else None


HEALTH_PAGE_SIZE = 50
HEALTH_COLUMNS = (
    ("Tenant", "tenant"),
    ("Unhealthy Exchange connectors", "exchange_unhealthy"),
    ("Stale or never synced", "exchange_stale"),
    ("Exchange connectors", "exchange_total"),
    ("App Proxy connectors", "app_proxy_connectors"),
    ("Groups at risk", "groups_at_risk"),
    ("Last checked", "taken_at"),
)


@require_GET
def tenant_health(request: HttpRequest) -> HttpResponse:
    return health_page(request, template="tenants/health.html")


def health_page(
    request: HttpRequest, *, template: str, context: dict | None = None
) -> HttpResponse:
    """The all-tenants list from stored snapshots (no Graph call), filtered, sorted, paged or as
    CSV, rendered in `template` (which includes `tenants/_health.html`): the all-tenants page
    and the overview of an admin with several tenants."""
    _ensure_home(request)
    context = {**(context or {}), "refresh_chunk": refresh_chunk_size()}
    form = TenantHealthFilterForm(request.GET)
    if not form.is_valid():
        return render(request, template, {**context, "form": form, "rows": []}, status=400)
    tenants = selectors.tenant_health_list(**form.selector_arguments())
    if form.cleaned_data.get("format") == "csv":
        return csv_download(_health_csv(tenants.iterator()), name="tenant-health")
    page = Paginator(tenants, HEALTH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        template,
        {
            **context,
            "form": form,
            "rows": [selectors.HealthRow(tenant) for tenant in page.object_list],
            "page": page,
            "total": page.paginator.count,
            "query": query_without(request.GET, "page", "format"),
            "columns": HEALTH_COLUMNS,
            "sort": form.cleaned_data.get("sort") or "tenant",
        },
    )


def _health_csv(tenants: Iterable[ManagedTenant]) -> Iterator[str]:
    out = csv_writer()
    yield out.writerow(
        ["tenant_id", "tenant", "domain", *[key for _, key in HEALTH_COLUMNS[1:]], "error"]
    )
    for tenant in tenants:
        row = selectors.HealthRow(tenant)
        snap = row.snapshot
        yield out.writerow(
            [
                row.tenant.tenant_id,
                csv_cell(row.tenant.display_name),
                csv_cell(row.tenant.default_domain),
                *[
                    csv_cell(getattr(snap, key, "")) if snap else ""
                    for _, key in HEALTH_COLUMNS[1:]
                ],
                csv_cell(snap.error if snap else "not checked yet"),
            ]
        )


@dataclass(frozen=True)
class RefreshProgress:
    """Where a progressive refresh stands: carried from one step's answer to the next request."""

    total: int
    done: int
    failed: int
    after: str = ""  # the last tenant id refreshed (tenant id order)
    more: bool = False
    first: bool = False

    @property
    def shown_done(self) -> int:
        return min(self.done, self.total)


@require_POST
@role_required(Role.OPERATOR)
def tenant_health_refresh(request: HttpRequest) -> HttpResponse:
    """One step of the progressive refresh: the next tenants (in tenant id order, after `after`;
    at most `TENANT_REFRESH_CHUNK`, none started after `TENANT_REFRESH_STEP_SECONDS`), read at
    bounded concurrency, each failing on its own, so each request ends within the request's
    Graph deadline however many tenants there are and however slow Graph is. Under htmx the
    answer shows the progress and, while tenants remain, asks for the next step itself (a Stop
    button ends the chain); a plain POST refreshes one step and goes back to the list."""
    _ensure_home(request)
    form = TenantRefreshForm(request.POST)
    if not form.is_valid():
        context = {"refresh_form": form, "refresh_chunk": refresh_chunk_size()}
        return render(request, "tenants/_refresh.html", context, status=form_error_status(request))
    step = form.cleaned_data
    total = selectors.managed_tenant_list().count()
    if step["stop"]:
        progress = RefreshProgress(
            total=total, done=step["done"], failed=step["failed"], after=step["after"]
        )
        return _refresh_answer(request, progress, failures=[], stopped=True)
    chunk = list(selectors.refresh_chunk(after=step["after"], size=refresh_chunk_size()))
    start_by = time.monotonic() + refresh_step_seconds()
    with graph_for_each_tenant(request) as graph_for_tenant:
        outcomes = services.tenants_refresh(
            tenants=chunk, graph_for_tenant=graph_for_tenant, start_by=start_by
        )
    read = chunk[: len(outcomes)]  # the first ones, in order: the rest are the next step's
    labels = {tenant.tenant_id: tenant.label for tenant in read}
    failures = [(labels[o.tenant_id], o.error) for o in outcomes if o.read is None]
    progress = RefreshProgress(
        total=total,
        done=step["done"] + len(outcomes),
        failed=step["failed"] + len(failures),
        after=read[-1].tenant_id if read else step["after"],
        more=bool(read) and selectors.refresh_chunk(after=read[-1].tenant_id, size=1).exists(),
        first=not step["after"],
    )
    return _refresh_answer(request, progress, failures=failures)


def _refresh_answer(
    request: HttpRequest,
    progress: RefreshProgress,
    *,
    failures: list[tuple[str, str]],
    stopped: bool = False,
) -> HttpResponse:
    if not getattr(request, "htmx", False):
        text = f"Refreshed {progress.done} of {progress.total} tenants"
        text += f"; {progress.failed} failed." if progress.failed else "."
        (messages.warning if progress.failed else messages.success)(request, text)
        return redirect(
            reverse("tenants:health") + (f"?{request.GET.urlencode()}" if request.GET else "")
        )
    context = {
        "progress": progress,
        "failures": failures,
        "stopped": stopped,
        "refresh_chunk": refresh_chunk_size(),
    }
    response = render(request, "tenants/_refresh.html", context)
    if stopped or not progress.more:
        # The list shows the new snapshots (it reloads itself on this event).
        trigger_client_event(response, "tenants-refreshed")
    return response

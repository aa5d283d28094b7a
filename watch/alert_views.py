"""The alerts pages: every tenant's incidents (filters, sort, pages, CSV), one incident with its
timeline (acknowledge, snooze: Operator or Admin, htmx), and the rules with their overrides
(Admin edits)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from audit.services import Actor
from kernel.csv_export import csv_cell, csv_download, csv_writer
from kernel.htmx import HtmxHttpRequest, form_error_status, page_or_partial
from kernel.listing import list_page, query_without, sort_columns
from kernel.roles import Role, role_required
from watch import alert_rules, alert_selectors, incidents
from watch.alert_forms import AcknowledgeForm, IncidentFilterForm, RuleSettingForm, SnoozeForm
from watch.alert_rules import RULES
from watch.models import Incident

PAGE_SIZE = 50
COLUMNS = [
    ("severity", "Severity"),
    ("rule", "Incident"),
    ("object", "Object"),
    ("tenant", "Tenant"),
    ("opened", "Opened"),
    (None, "State"),
    ("resolved", "Resolved"),
]


@require_http_methods(["GET", "HEAD"])
@vary_on_headers("HX-Request")
def alert_list(request: HtmxHttpRequest) -> HttpResponse:
    form = IncidentFilterForm(request.GET)
    template = page_or_partial(request, "watch/alerts.html", "results")
    if not form.is_valid():
        return render(request, template, {"form": form}, status=form_error_status(request))
    rows = alert_selectors.incident_list(**form.filters(), sort=form.cleaned_data.get("sort") or "")
    if form.cleaned_data.get("format") == "csv":
        return csv_download(_csv_lines(rows.iterator()), name="incidents")
    sort = form.cleaned_data.get("sort") or alert_selectors.DEFAULT_SORT
    page = list_page(request, rows, form.cleaned_data.get("page"), PAGE_SIZE)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "rules": RULES,
        "columns": sort_columns(
            request.GET, COLUMNS, sort, descending_first={"opened", "resolved"}
        ),
        "query": query_without(request.GET, "page", "format"),
    }
    return render(request, template, context)


CSV_HEADER = [
    "id",
    "severity",
    "rule",
    "state",
    "tenant_id",
    "tenant",
    "object_kind",
    "object_id",
    "object",
    "summary",
    "opened_at",
    "resolved_at",
    "acknowledged_by",
    "snoozed_until",
    "seen",
]


def _csv_lines(rows: Iterable[Incident]) -> Iterator[str]:
    out = csv_writer()
    yield out.writerow(CSV_HEADER)
    for incident in rows:
        yield out.writerow(
            [
                csv_cell(value)
                for value in (
                    incident.pk,
                    incident.severity,
                    incident.rule,
                    incident.state,
                    incident.tenant_id,
                    incident.tenant_name,
                    incident.object_kind,
                    incident.object_id,
                    incident.object_name,
                    incident.summary,
                    incident.opened_at.isoformat() if incident.opened_at else None,
                    incident.resolved_at.isoformat() if incident.resolved_at else None,
                    incident.acknowledged_by,
                    incident.snoozed_until.isoformat() if incident.snoozed_until else None,
                    incident.seen,
                )
            ]
        )


def _incident(incident_id: int) -> Incident:
    incident = alert_selectors.incident_get(incident_id)
    if incident is None:
        raise Http404("No such incident.")
    return incident


def _detail(
    request: HtmxHttpRequest,
    incident: Incident,
    *,
    acknowledge_form: forms.Form | None = None,
    snooze_form: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        page_or_partial(request, "watch/incident.html", "live"),
        {
            "incident": incident,
            "rule": RULES.get(incident.rule),
            "acknowledge_form": acknowledge_form or AcknowledgeForm(),
            "snooze_form": snooze_form or SnoozeForm(),
        },
        status=status,
    )


@require_GET
def incident_detail(request: HtmxHttpRequest, incident_id: int) -> HttpResponse:
    return _detail(request, _incident(incident_id))


@require_POST
@role_required(Role.OPERATOR)
def incident_acknowledge(request: HtmxHttpRequest, incident_id: int) -> HttpResponse:
    form = AcknowledgeForm(request.POST)
    return _act(
        request, incident_id, "acknowledge_form", form, incidents.acknowledge, "Acknowledged."
    )


@require_POST
@role_required(Role.OPERATOR)
def incident_snooze(request: HtmxHttpRequest, incident_id: int) -> HttpResponse:
    form = SnoozeForm(request.POST)
    return _act(request, incident_id, "snooze_form", form, incidents.snooze, "Snoozed.")


def _act(
    request: HtmxHttpRequest,
    incident_id: int,
    form_name: str,
    form: forms.Form,
    service: Callable[..., Incident],
    done: str,
) -> HttpResponse:
    """Acknowledge or snooze: the form's errors in place (422 under htmx), else the service
    with the form's values, then the incident as it now stands."""
    incident = _incident(incident_id)
    if not form.is_valid():
        status = form_error_status(request)
        return _detail(request, incident, status=status, **{form_name: form})
    incident = service(
        incident_id=incident.pk, actor=Actor.from_request(request), **form.cleaned_data
    )
    messages.success(request, done)
    if request.htmx:
        return _detail(request, incident)
    return redirect("watch:incident", incident_id=incident.pk)


# -- the rules ------------------------------------------------------------------------------------


def _rules_page(request: HttpRequest, form: RuleSettingForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "watch/rules.html",
        {
            "rows": alert_selectors.rule_rows(),
            "form": form,
            "default_consecutive": settings.WATCH_ALERT_CONSECUTIVE,
        },
        status=status,
    )


@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    initial = {"rule": request.GET.get("rule", ""), "tenant": request.GET.get("tenant", "")}
    return _rules_page(request, RuleSettingForm(initial=initial))


@require_POST
@role_required(Role.ADMIN)
def rule_save(request: HttpRequest) -> HttpResponse:
    form = RuleSettingForm(request.POST)
    if not form.is_valid():
        return _rules_page(request, form, status=form_error_status(request))
    values = form.values()
    alert_rules.rule_setting_save(actor=Actor.from_request(request), **values)
    where = "every tenant" if not values["tenant_id"] else values["tenant_id"]
    messages.success(request, f"Saved “{RULES[values['rule']].title}” for {where}.")
    return redirect("watch:rules")


@require_POST
@role_required(Role.ADMIN)
def rule_reset(request: HttpRequest) -> HttpResponse:
    rule, tenant_id = request.POST.get("rule", ""), request.POST.get("tenant", "")
    if rule not in RULES:
        raise Http404("No such rule.")
    if alert_rules.rule_setting_reset(
        actor=Actor.from_request(request), rule=rule, tenant_id=tenant_id
    ):
        messages.success(request, f"“{RULES[rule].title}” follows the wider setting again.")
    else:
        messages.info(request, "There was no such override.")
    return redirect("watch:rules")

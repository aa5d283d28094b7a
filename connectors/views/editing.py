"""The reviewed-edit flow every editor shares: form → review old → new → save → conflict.

A resource describes itself once (`EditFlow`); its edit view is then one call to `reviewed_edit`.
Plain requests get whole pages, htmx requests the step's partial of `connectors/edit.html`, and an
inline editor (`?inline=1`, a table row) the row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from audit.services import Actor
from connectors.editing import Changes, EditConflict, GraphRecord, ReviewedEditForm
from connectors.graph.client import GraphClient
from connectors.graph.errors import GraphError
from connectors.views.common import HtmxHttpRequest
from dashboard.graph_faults import graph_fault_response

TEMPLATE = "connectors/edit.html"


class Save(Protocol):
    def __call__(
        self, *, graph: GraphClient, actor: Actor, object_id: str, changes: Changes, reason: str
    ) -> GraphRecord: ...


@dataclass(frozen=True)
class EditFlow:
    """How one kind of object is edited.

    `namespace` names the URLs `<namespace>:list`, `:detail` and `:edit`; `name_field` is the
    form field that names the object for people; `saved_row` renders the table row after an
    inline save (None: the resource has no inline editor).
    """

    namespace: str
    noun: str
    list_label: str
    form_class: type[ReviewedEditForm]
    name_field: str
    load: Callable[[GraphClient, str], GraphRecord]
    initial: Callable[[GraphRecord], dict[str, Any]]
    save: Save
    saved_row: Callable[[HtmxHttpRequest, GraphRecord], HttpResponse] | None = None
    colspan: int = 10


def reviewed_edit(
    request: HtmxHttpRequest, flow: EditFlow, object_id: str, *, graph: GraphClient
) -> HttpResponse:
    """GET opens the form with Graph's values; each POST moves one step (`step` = review, edit,
    save). Nothing reaches Graph before the save step, and the save step checks for conflicts."""
    inline = bool(request.htmx and request.GET.get("inline") == "1" and flow.saved_row)
    if request.method == "GET":
        try:
            record = flow.load(graph, object_id)
        except GraphError as error:
            return graph_fault_response(request, error, title=f"Could not open the {flow.noun}")
        form = flow.form_class(
            initial={**flow.initial(record), "original": flow.form_class.sign(record)},
            object_id=object_id,
        )
        return _render(request, flow, "form", form, object_id, inline)

    form = flow.form_class(request.POST, object_id=object_id)
    if not form.is_valid():
        return _render(request, flow, "form", form, object_id, inline, status=422)
    if not form.changes():
        form.add_error(None, "Nothing changed: edit a value first.")
        return _render(request, flow, "form", form, object_id, inline, status=422)
    if request.POST.get("step") == "edit":
        return _render(request, flow, "form", form, object_id, inline)
    if request.POST.get("step") != "save":
        return _render(request, flow, "review", form, object_id, inline)
    if not form.ready_to_save():
        return _render(request, flow, "review", form, object_id, inline, status=422)
    try:
        updated = flow.save(
            graph=graph,
            actor=Actor.from_request(request),
            object_id=object_id,
            changes=form.changes(),
            reason=form.cleaned_data["reason"],
        )
    except EditConflict as conflict:
        return _render_conflict(request, flow, form, conflict, object_id, inline)
    except GraphError as error:
        return graph_fault_response(request, error, title="Graph did not save the change")
    messages.success(request, f"Saved {updated.display_name}: " + ", ".join(form.changes()) + ".")
    if inline and flow.saved_row:
        return flow.saved_row(request, updated)
    return redirect(f"{flow.namespace}:detail", object_id)


def _render(
    request: HtmxHttpRequest,
    flow: EditFlow,
    step: str,
    form: ReviewedEditForm,
    object_id: str,
    inline: bool,
    *,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    context = {
        "form": form,
        "step": step,
        "object_id": object_id,
        "name": form[flow.name_field].value() or object_id,
        "noun": flow.noun,
        "list_label": flow.list_label,
        "list_url": reverse(f"{flow.namespace}:list"),
        "detail_url": reverse(f"{flow.namespace}:detail", args=[object_id]),
        "edit_url": reverse(f"{flow.namespace}:edit", args=[object_id]),
        "inline": inline,
        "colspan": flow.colspan,
        "changes": form.changes() if form.is_bound and hasattr(form, "cleaned_data") else {},
        "reported_fields": form.REPORTED_BY_CONNECTOR,
        "reason_required": settings.AUDIT_REQUIRE_REASON,
        **(extra or {}),
    }
    template = (
        f"{TEMPLATE}#inline" if inline else (f"{TEMPLATE}#{step}" if request.htmx else TEMPLATE)
    )
    return render(request, template, context, status=status)


def _render_conflict(
    request: HtmxHttpRequest,
    flow: EditFlow,
    form: ReviewedEditForm,
    conflict: EditConflict,
    object_id: str,
    inline: bool,
) -> HttpResponse:
    # "Review mine against Graph's values" resubmits the admin's values against the object as
    # it is now.
    mine = flow.form_class(
        initial={**form.cleaned_data, "original": flow.form_class.sign(conflict.current)},
        object_id=object_id,
    )
    return _render(
        request,
        flow,
        "conflict",
        form,
        object_id,
        inline,
        status=409,
        extra={"conflict": conflict, "resubmit_form": mine},
    )

"""The reviewed-edit flow every editor shares: form → review old → new → save → conflict.

A resource describes itself once (`EditFlow`: its selector and its update service, whose id
arguments are named as in the URL); its edit view is then one call to `reviewed_edit`. Plain
requests get whole pages, htmx requests the step's partial of `connectors/edit.html`, and an inline
editor (htmx targeting the table row `row-<id>`) the row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from audit.services import Actor
from connectors.errors import EditConflict
from connectors.forms import ReviewedEditForm
from connectors.records import Changes, GraphRecord
from graph.client import GraphClient
from kernel.graph_clients import graph_for
from kernel.htmx import HtmxHttpRequest, form_error_status, targets

TEMPLATE = "connectors/edit.html"
# The fields only the review step shows.
REVIEW_FIELDS = {"reason", "confirm_override"}


class Load(Protocol):
    def __call__(self, *, graph: GraphClient, **object_id: str) -> GraphRecord: ...


class Save(Protocol):
    def __call__(
        self, *, graph: GraphClient, actor: Actor, changes: Changes, reason: str, **object_id: str
    ) -> GraphRecord: ...


@dataclass(frozen=True)
class EditFlow:
    """How one kind of object is edited.

    `namespace` names the URLs `<namespace>:list`, `:detail` and `:edit`; `name_field` is the
    form field that names the object for people; `load` and `save` are the resource's selector
    and update service; `saved_row` renders the table row after an inline save (None: the
    resource has no inline editor); `scopes`, Graph permissions beyond the sign-in's.
    """

    namespace: str
    noun: str
    list_label: str
    form_class: type[ReviewedEditForm]
    name_field: str
    load: Load
    initial: Callable[[GraphRecord], dict[str, Any]]
    save: Save
    saved_row: Callable[[HtmxHttpRequest, GraphRecord], HttpResponse] | None = None
    colspan: int = 10
    scopes: Sequence[str] | None = None


def reviewed_edit(request: HtmxHttpRequest, flow: EditFlow, **ids: str) -> HttpResponse:
    """GET opens the form with Graph's values; each POST moves one step (`step` = review, edit,
    save). Nothing reaches Graph before the save step, and the save step checks for conflicts.
    `ids`: the object's id, named as in the URL and in the flow's selector and service."""
    (object_id,) = ids.values()
    graph = graph_for(request, scopes=flow.scopes)
    inline = targets(request, f"row-{object_id}") and flow.saved_row is not None
    if request.method == "GET":
        record = flow.load(graph=graph, **ids)
        form = flow.form_class(
            initial={**flow.initial(record), "original": flow.form_class.sign(record)},
            object_id=object_id,
        )
        return _render(request, flow, "form", form, object_id, inline)

    form = flow.form_class(request.POST, object_id=object_id)
    invalid = form_error_status(request)
    if not form.is_valid():
        # A reason too long (or the like) at the save step is shown where it was typed.
        at_review = request.POST.get("step") == "save" and set(form.errors) <= REVIEW_FIELDS
        step = "review" if at_review else "form"
        return _render(request, flow, step, form, object_id, inline, status=invalid)
    if not form.changes():
        form.add_error(None, "Nothing changed: edit a value first.")
        return _render(request, flow, "form", form, object_id, inline, status=invalid)
    if request.POST.get("step") == "edit":
        return _render(request, flow, "form", form, object_id, inline)
    if request.POST.get("step") != "save":
        return _render(request, flow, "review", form, object_id, inline)
    if not form.ready_to_save():
        return _render(request, flow, "review", form, object_id, inline, status=invalid)
    try:
        updated = flow.save(
            graph=graph,
            actor=Actor.from_request(request),
            changes=form.changes(),
            reason=form.cleaned_data["reason"],
            **ids,
        )
    except EditConflict as conflict:
        # Deliberately inline: the conflict is a step of the edit (both versions side by side),
        # not a fault; every other refusal and Graph fault takes the one fault path.
        return _render_conflict(request, flow, form, conflict, object_id, inline)
    fields = ", ".join(str(form.fields[name].label or name) for name in form.changes())
    messages.success(request, f"Saved {updated.display_name}: {fields}.")
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
        "changes": [
            {"name": name, "label": form.fields[name].label or name, "old": old, "new": new}
            for name, (old, new) in (
                form.changes() if form.is_bound and hasattr(form, "cleaned_data") else {}
            ).items()
        ],
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

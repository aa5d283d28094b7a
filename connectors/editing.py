"""Reviewed edits, shared by every editor of a Graph object: the form, the diff, the conflict check.

The values Graph had when the form was opened travel signed with the form. They tell which fields
the admin changed (only those are PATCHed) and whether someone changed the object in Graph
meanwhile (then nothing is sent and the admin compares).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from django import forms
from django.conf import settings
from django.core import signing

from audit.services import Actor, Target, audited_graph_write
from connectors.graph.client import GraphClient
from connectors.records import same_graph_value

Changes = Mapping[str, tuple[Any, Any]]


class _NotChecked:
    def __repr__(self) -> str:
        return "NOT_CHECKED"


# As the "value when opened" of a change: the caller saw no earlier value (an API client that
# sent no `expected`), so that field is not checked for a conflict.
NOT_CHECKED: Any = _NotChecked()


def api_changes(values: Mapping[str, Any], expected: Mapping[str, Any]) -> Changes:
    """An API update's changes: each new value, with the value the client expects Graph to
    have now where it said one."""
    return {name: (expected.get(name, NOT_CHECKED), value) for name, value in values.items()}


class GraphRecord(Protocol):
    """What an editable record offers: its id, a name for people, its values under Graph's names."""

    @property
    def id(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    def graph_values(self) -> dict[str, Any]: ...


class EditConflict(Exception):
    """The object changed in Graph since the form was opened, on fields the admin changed."""

    def __init__(self, current: GraphRecord, fields: dict[str, tuple[Any, Any, Any]]) -> None:
        super().__init__("The object changed in Graph since the form was opened.")
        self.current = current
        # property → (value when the form was opened, value in Graph now, the admin's value)
        self.fields = fields


class ReviewedEditForm(forms.Form):
    """Mixed in before a form of Graph properties that defines `graph_values()` (the cleaned
    values under Graph's names): `class XEditForm(ReviewedEditForm, XForm)`.

    Facts a record offers through `edit_facts()` (e.g. why a field is locked) travel signed too,
    as `self.facts`, so the form can refuse a forged value without asking Graph again.

    Subclasses set `EDIT_SALT` (one per kind of object), `NOUN` (for messages),
    `REPORTED_BY_CONNECTOR` (fields whose change is an override) and `ENUM_FIELDS` (dropdowns
    that must keep a value Graph returned that they do not offer).
    """

    EDIT_SALT: ClassVar[str]
    NOUN: ClassVar[str] = "connector"
    REPORTED_BY_CONNECTOR: ClassVar[tuple[str, ...]] = ()
    ENUM_FIELDS: ClassVar[tuple[str, ...]] = ()

    original = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Reason for the change",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm_override = forms.BooleanField(
        label="Override the values the connector reports itself",
        required=False,
    )

    def __init__(self, *args: Any, object_id: str, **kwargs: Any) -> None:
        # Several rows may be open for editing on one page: ids must stay unique.
        kwargs.setdefault("auto_id", f"edit-{object_id}-%s")
        super().__init__(*args, **kwargs)
        self.object_id = object_id
        self.original_values, self.facts = self._original()
        self._keep_unknown_enum_values()

    @classmethod
    def sign(cls, record: GraphRecord) -> str:
        """The record's values (and its `edit_facts()`, if it has any) for the form to carry."""
        facts = record.edit_facts() if hasattr(record, "edit_facts") else {}
        return signing.dumps(
            {"id": record.id, "values": record.graph_values(), "facts": facts}, salt=cls.EDIT_SALT
        )

    def _original(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(Graph's values when the form was opened, facts the form's checks rely on)."""
        raw = self.data.get("original") if self.is_bound else self.initial.get("original")
        try:
            payload = signing.loads(raw or "", salt=self.EDIT_SALT)
        except signing.BadSignature:
            return {}, {}
        if payload.get("id") != self.object_id:
            return {}, {}
        return payload.get("values", {}), payload.get("facts", {})

    def _keep_unknown_enum_values(self) -> None:
        """A value Graph returned that no dropdown offers stays selectable only as it was."""
        for name in self.ENUM_FIELDS:
            current = self.original_values.get(name) or ""
            field = self.fields[name]
            if current and current not in dict(field.choices):
                field.choices = [*field.choices, (current, f"{current} (as Graph reports it)")]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.original_values:
            raise forms.ValidationError(
                f"This form does not belong to this {self.NOUN} or has expired. Open the edit "
                "form again.",
                code="bad_original",
            )
        return cleaned

    def changes(self) -> dict[str, tuple[Any, Any]]:
        """Graph property → (value when opened, value now), for the fields that changed."""
        changed = {}
        for name, value in self.graph_values().items():  # type: ignore[attr-defined]
            old = self.original_values.get(name, "")
            if not same_graph_value(name, old, value):
                changed[name] = (old, value)
        return changed

    def overrides(self) -> list[str]:
        return [name for name in self.changes() if name in self.REPORTED_BY_CONNECTOR]

    def ready_to_save(self) -> bool:
        """At save: a reason where one is required, and an override of reported values confirmed.

        Checked only at the save step, where both fields are on screen. False adds the errors.
        """
        if settings.AUDIT_REQUIRE_REASON and not self.cleaned_data.get("reason", "").strip():
            self.add_error("reason", "This field is required: say why you make this change.")
        if self.overrides() and not self.cleaned_data.get("confirm_override"):
            self.add_error(
                "confirm_override",
                "You are overriding values the connector reports itself ("
                + ", ".join(self.overrides())
                + "). Tick the box to confirm; the connector may report its own values again "
                "at its next sync.",
            )
        return not self.errors


def reviewed_update(
    *,
    graph: GraphClient,
    actor: Actor,
    action: str,
    target_type: str,
    path: str,
    current: GraphRecord,
    changes: Changes,
    reason: str = "",
) -> dict[str, Any]:
    """PATCH only the changed fields, unless Graph changed one of them since the form opened.

    `current` is the object as Graph has it now (the caller's GET: the conflict check); `changes`
    maps each changed property to (value when the form was opened, new value). Returns the
    object's Graph values after the PATCH (Graph's echo, or — on 204 — the current ones patched).
    """
    now_in_graph = current.graph_values()
    conflicts = {
        name: (opened, now_in_graph.get(name), new)
        for name, (opened, new) in changes.items()
        if opened is not NOT_CHECKED and not same_graph_value(name, opened, now_in_graph.get(name))
    }
    if conflicts:
        raise EditConflict(current, conflicts)
    # A value Graph already has needs no PATCH (and no audit entry): nothing would change.
    patch = {
        name: new
        for name, (_, new) in changes.items()
        if not same_graph_value(name, now_in_graph.get(name), new)
    }
    if not patch:
        return {"id": current.id, **now_in_graph}
    with audited_graph_write(
        actor=actor,
        action=action,
        target=Target(type=target_type, id=current.id, name=current.display_name),
        before={name: now_in_graph.get(name) for name in patch},
        after=patch,
        reason=reason,
    ) as write:
        response = graph.patch(path, json=patch, client_request_id=write.correlation_id)
        write.report(response)
    if isinstance(response.body, dict) and response.body.get("id"):
        return response.body
    return {"id": current.id, **now_in_graph, **patch}

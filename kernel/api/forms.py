"""The API validates with the same Django forms as the pages: one set of rules for both.

`serializer_for_form` describes a form's fields as a DRF serializer (for the OpenAPI schema and
the JSON types); `validated` runs the form itself on the JSON and raises DRF's ValidationError
with the form's field errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django import forms
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers

FormT = TypeVar("FormT", bound=forms.Form)


def _serializer_field(field: forms.Field, *, required: bool) -> serializers.Field:
    common: dict[str, Any] = {
        "required": required,
        "label": field.label,
        "help_text": field.help_text or None,
    }
    if isinstance(field, forms.ChoiceField):
        return serializers.ChoiceField(
            choices=[value for value, _ in field.choices if value != ""],
            allow_blank=not field.required,
            **common,
        )
    if isinstance(field, forms.DateTimeField):
        return serializers.DateTimeField(allow_null=True, **common)
    if isinstance(field, forms.BooleanField):
        return serializers.BooleanField(**common)
    if isinstance(field, forms.IntegerField):
        return serializers.IntegerField(
            min_value=field.min_value, max_value=field.max_value, allow_null=True, **common
        )
    text = serializers.EmailField if isinstance(field, forms.EmailField) else serializers.CharField
    return text(
        max_length=getattr(field, "max_length", None),
        allow_blank=not field.required,
        allow_null=not field.required,
        **common,
    )


def serializer_for_form(
    form_class: type[forms.Form],
    name: str,
    *,
    only: Iterable[str] | None = None,
    all_optional: bool = False,
) -> type[serializers.Serializer]:
    """A serializer with the form's fields (the schema of a request body)."""
    fields = form_class.base_fields
    wanted = list(only) if only is not None else list(fields)
    attrs = {
        field_name: _serializer_field(
            fields[field_name], required=fields[field_name].required and not all_optional
        )
        for field_name in wanted
    }
    return type(name, (serializers.Serializer,), attrs)


def _as_form_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, dict | list):
        raise exceptions.ValidationError("Expected a single value, not a list or an object.")
    return str(value)


def validated(
    form_class: type[FormT],
    data: Mapping[str, Any],
    *,
    only: Iterable[str] | None = None,
    **form_kwargs: Any,
) -> FormT:
    """The form, bound to the JSON values and valid; else a 400 naming each bad field.

    `only` keeps just those fields (a partial update validates what it changes).
    """
    if not isinstance(data, Mapping):
        raise exceptions.ValidationError({"non_field_errors": ["Expected a JSON object."]})
    field_errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, value in data.items():
        try:
            values[name] = _as_form_value(value)
        except exceptions.ValidationError as exc:
            field_errors[name] = list(exc.detail)
    form = form_class(data=values, **form_kwargs)
    if only is not None:
        keep = set(only)
        for name in list(form.fields):
            if name not in keep:
                del form.fields[name]
    unknown = sorted(set(data) - set(form.fields))
    for name in unknown:
        field_errors[name] = ["Unknown field."]
    if not form.is_valid() or field_errors:
        errors = {name: list(messages) for name, messages in form.errors.items()}
        errors.update(field_errors)
        raise exceptions.ValidationError(errors)
    return form


def query_parameters(form_class: type[forms.Form]) -> list[OpenApiParameter]:
    """A filter form's fields as the OpenAPI query parameters of a list operation."""
    parameters = []
    for name, field in form_class().fields.items():  # choices set in __init__ included
        enum = (
            [value for value, _ in field.choices if value != ""]
            if isinstance(field, forms.ChoiceField)
            else None
        )
        kind = int if isinstance(field, forms.IntegerField) else str
        parameters.append(
            OpenApiParameter(
                name,
                kind,
                OpenApiParameter.QUERY,
                required=False,
                enum=enum,
                description=str(field.label or name),
            )
        )
    return parameters

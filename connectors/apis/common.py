"""What the connector API views share: the actor, and the body of an update."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request

from audit.models import Channel
from audit.reasons import ChangeReasonSerializer
from audit.services import Actor
from connectors.records import NOT_CHECKED, Changes
from kernel.api.forms import serializer_for_form, validated


def actor_for(request: Request) -> Actor:
    return Actor.from_request(request._request, channel=Channel.API)


def update_input_serializer(
    form_class: type[forms.Form], name: str
) -> type[serializers.Serializer]:
    """The body of an update: `values` (the form's fields, each optional), `expected` and a
    `reason`. Named `<name>UpdateInput` in the schema."""
    values = serializer_for_form(form_class, f"{name}Values", all_optional=True)
    serializer = type(
        f"{name}UpdateInput",
        (ChangeReasonSerializer,),
        {
            "values": values(help_text="The properties to change, by their Graph names."),
            "expected": serializers.DictField(
                required=False,
                help_text="The values you expect Graph to have now; a difference is a 409 and "
                "nothing is changed.",
            ),
        },
    )
    return extend_schema_serializer(component_name=f"{name}UpdateInput")(serializer)


def api_changes(values: Mapping[str, Any], expected: Mapping[str, Any]) -> Changes:
    """An API update's changes: each new value, with the value the client expects Graph to
    have now where it said one."""
    return {name: (expected.get(name, NOT_CHECKED), value) for name, value in values.items()}


def validated_update(
    request: Request, form_class: type[forms.Form], input_serializer: type[serializers.Serializer]
) -> tuple[Changes, str]:
    """An update's changes (checked by the pages' form, only the fields sent) and its reason."""
    body = input_serializer(data=request.data)
    body.is_valid(raise_exception=True)
    values = request.data.get("values") or {}
    graph_values = validated(form_class, values, only=list(values)).graph_values()
    changes = api_changes(
        {name: graph_values[name] for name in values}, body.validated_data.get("expected", {})
    )
    return changes, body.validated_data["reason"]

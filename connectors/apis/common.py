"""What every connector API view shares: the caller's Graph client, the actor, paging."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import EmptyPage, Paginator
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from audit.models import Channel
from audit.services import Actor
from connectors.editing import Changes, api_changes
from connectors.graph.client import GraphClient
from connectors.graph.session import graph_client_for_session, graph_client_on_behalf_of
from dashboard.api.forms import ChangeReasonSerializer, serializer_for_form, validated
from dashboard.api_tokens import ApiCredential
from dashboard.query_fields import MAX_PAGE

MAX_PAGE_SIZE = 200


def graph_for(request: Request, *, scopes: list[str] | None = None) -> GraphClient:
    """Graph as the caller: On-Behalf-Of the token's user, or the browser session's tokens."""
    if isinstance(request.auth, ApiCredential):
        return graph_client_on_behalf_of(
            oid=request.auth.claims["oid"], assertion=request.auth.token, scopes=scopes
        )
    return graph_client_for_session(request._request.session, scopes=scopes)


def actor_for(request: Request) -> Actor:
    return Actor.from_request(request._request, channel=Channel.API)


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, default=1)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=50
    )


def paged(items: list[Any], query: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """One page of `items` and the page's facts (count, page, pages, page_size)."""
    paginator = Paginator(items, query.get("page_size") or 50)
    try:
        page = paginator.page(query.get("page") or 1)
    except EmptyPage as exc:
        # Past the last page is a 404 (a script looping "until empty" must stop).
        raise NotFound(
            f"There is no page {query.get('page')}: there are {paginator.num_pages}."
        ) from exc
    return list(page.object_list), {
        "count": paginator.count,
        "page": page.number,
        "pages": paginator.num_pages,
        "page_size": paginator.per_page,
    }


def page_serializer(item_serializer: type[serializers.Serializer], name: str) -> type:
    """The schema of a paged list: its facts and `results`."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(),
            "page": serializers.IntegerField(),
            "pages": serializers.IntegerField(),
            "page_size": serializers.IntegerField(),
            "results": item_serializer(many=True),
        },
    )


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

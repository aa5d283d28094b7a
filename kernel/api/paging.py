"""Paged API lists: `page`, `page_size` in; `count`, `page`, `pages`, `page_size`, `results` out."""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, Paginator
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from kernel.query_fields import MAX_PAGE

MAX_PAGE_SIZE = 200


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

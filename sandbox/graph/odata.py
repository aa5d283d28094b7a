"""OData query options on the sandbox's collections: filter, order, count, page, select."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.http import HttpResponse

from sandbox.graph.context import GraphRequest
from sandbox.graph.entities import EntityType
from sandbox.graph.filters import compile_filter
from sandbox.graph.responses import bad_request, json_response, text_response

SUPPORTED_OPTIONS = frozenset(
    {"$top", "$skip", "$skiptoken", "$select", "$filter", "$orderby", "$count"}
)
# Graph's own ceiling for most directory collections.
MAX_PAGE_SIZE = 999


def page_size() -> int:
    return int(getattr(settings, "SANDBOX_PAGE_SIZE", 100))


@dataclass(frozen=True)
class QueryOptions:
    top: int | None
    offset: int
    select: tuple[str, ...]
    filter: Callable[[dict[str, Any]], bool] | None
    orderby: tuple[tuple[str, bool], ...]
    count: bool


def _non_negative_int(name: str, raw: str) -> int:
    if not raw.isdigit():
        raise bad_request(
            f"Invalid value '{raw}' for query option '{name}': expected a non-negative integer.",
            target=name,
        )
    return int(raw)


def _known_property(entity_type: EntityType, name: str, option: str) -> str:
    if entity_type.property(name) is None:
        raise bad_request(
            f"Could not find a property named '{name}' on type '{entity_type.qualified_name}' "
            f"(in {option}).",
            target=option,
        )
    return name


def encode_skiptoken(offset: int) -> str:
    raw = json.dumps({"o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_skiptoken(token: str) -> int:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = payload["o"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise bad_request(
            "The $skiptoken is invalid: follow @odata.nextLink as given.", target="$skiptoken"
        ) from exc
    if not isinstance(offset, int) or offset < 0:
        raise bad_request(
            "The $skiptoken is invalid: follow @odata.nextLink as given.", target="$skiptoken"
        )
    return offset


def _orderby(entity_type: EntityType, raw: str) -> tuple[tuple[str, bool], ...]:
    keys: list[tuple[str, bool]] = []
    for clause in (part.strip() for part in raw.split(",")):
        words = clause.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise bad_request(f"Invalid $orderby clause '{clause}'.", target="$orderby")
        name = _known_property(entity_type, words[0], "$orderby")
        keys.append((name, len(words) == 2 and words[1] == "desc"))
    return tuple(keys)


def _count(raw: str | None) -> bool:
    if raw is None:
        return False
    if raw.lower() not in ("true", "false"):
        raise bad_request(
            f"Invalid value '{raw}' for query option '$count': expected true or false.",
            target="$count",
        )
    return raw.lower() == "true"


def parse_options(req: GraphRequest, entity_type: EntityType) -> QueryOptions:
    query = req.query
    for name in query:
        if name.startswith("$") and name not in SUPPORTED_OPTIONS:
            raise bad_request(f"Query option '{name}' is not supported.", target=name)
    top = _non_negative_int("$top", query["$top"]) if "$top" in query else None
    offset = _non_negative_int("$skip", query["$skip"]) if "$skip" in query else 0
    if "$skiptoken" in query:
        offset = decode_skiptoken(query["$skiptoken"])
    select = tuple(
        _known_property(entity_type, name.strip(), "$select")
        for name in query.get("$select", "").split(",")
        if name.strip()
    )
    return QueryOptions(
        top=top,
        offset=offset,
        select=select,
        filter=compile_filter(query["$filter"], entity_type) if "$filter" in query else None,
        orderby=_orderby(entity_type, query["$orderby"]) if query.get("$orderby") else (),
        count=_count(query.get("$count")),
    )


def _sort(items: list[dict[str, Any]], keys: tuple[tuple[str, bool], ...]) -> list[dict[str, Any]]:
    # Stable sorts applied last key first; nulls sort lowest, as in OData.
    for name, descending in reversed(keys):
        items.sort(
            key=lambda item, name=name: (
                item.get(name) is not None,
                _sortable(item.get(name)),
            ),
            reverse=descending,
        )
    return items


def _sortable(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    return "" if value is None else value


def _select(item: dict[str, Any], select: tuple[str, ...]) -> dict[str, Any]:
    if not select:
        return item
    kept = {"@odata.type", "id", *select}
    return {key: value for key, value in item.items() if key in kept}


def _next_link(req: GraphRequest, offset: int) -> str:
    query = {key: value for key, value in req.query.items() if key not in ("$skip", "$skiptoken")}
    query["$skiptoken"] = encode_skiptoken(offset)
    return f"{req.url(req.path)}?{urlencode(query, quote_via=quote, safe='$,()')}"


def metadata_url(req: GraphRequest, fragment: str) -> str:
    return f"{req.url('$metadata')}#{fragment}"


def filtered(
    req: GraphRequest, entity_type: EntityType, items: list[dict[str, Any]]
) -> tuple[QueryOptions, list[dict[str, Any]]]:
    options = parse_options(req, entity_type)
    if options.filter is not None:
        items = [item for item in items if options.filter(item)]
    return options, items


def collection_response(
    req: GraphRequest, entity_type: EntityType, items: list[dict[str, Any]], context: str
) -> HttpResponse:
    """One page of a collection, Graph-shaped; `context` is the `$metadata#…` fragment."""
    options, items = filtered(req, entity_type, items)
    items = _sort(items, options.orderby)
    size = min(options.top if options.top is not None else page_size(), MAX_PAGE_SIZE)
    page = items[options.offset : options.offset + size]
    if options.select:
        context = f"{context}({','.join(options.select)})"
    body: dict[str, Any] = {"@odata.context": metadata_url(req, context)}
    if options.count:
        body["@odata.count"] = len(items)
    end = options.offset + len(page)
    if end < len(items) and size > 0:
        body["@odata.nextLink"] = _next_link(req, end)
    body["value"] = [_select(item, options.select) for item in page]
    return json_response(body)


def count_response(
    req: GraphRequest, entity_type: EntityType, items: list[dict[str, Any]]
) -> HttpResponse:
    """`/collection/$count`: the number of matching items as plain text."""
    _, items = filtered(req, entity_type, items)
    return text_response(str(len(items)))


def entity_response(
    req: GraphRequest,
    entity_type: EntityType,
    item: dict[str, Any],
    context: str,
    status: int = 200,
) -> HttpResponse:
    """One entity (bare object), with `$select` honoured."""
    select = tuple(
        _known_property(entity_type, name.strip(), "$select")
        for name in req.query.get("$select", "").split(",")
        if name.strip()
    )
    if select:
        context = f"{context}({','.join(select)})"
    body = {"@odata.context": metadata_url(req, f"{context}/$entity"), **_select(item, select)}
    return json_response(body, status=status)

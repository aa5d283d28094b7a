"""Graph collections page by page: follow `@odata.nextLink` as an opaque absolute URL."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graph.errors import GraphUnavailable
from graph.responses import GraphResponse

if TYPE_CHECKING:
    from graph.client import GraphClient, Params


@dataclass(frozen=True)
class Page:
    """One page of a collection; `next_link` is None on the last one."""

    items: tuple[dict[str, Any], ...]
    next_link: str | None
    count: int | None
    response: GraphResponse


def get_page(
    client: GraphClient, path_or_next_link: str, *, params: Params | None = None, **kw: Any
) -> Page:
    """One page. Pass a collection path with its query options, or a nextLink as it came.

    A nextLink already carries every query option (with its $skiptoken or $skip), so `params`
    are sent only with a path.
    """
    is_link = "://" in path_or_next_link
    response = client.get(path_or_next_link, params=None if is_link else params, **kw)
    body = response.body
    if not isinstance(body, dict) or not isinstance(body.get("value", []), list):
        raise GraphUnavailable(
            f"Graph answered {response.url} with something that is not a collection.",
            status=response.status,
            request_id=response.request_id,
            client_request_id=response.client_request_id,
        )
    count = body.get("@odata.count")
    return Page(
        items=tuple(body.get("value") or ()),
        next_link=body.get("@odata.nextLink") or None,
        count=count if isinstance(count, int) else None,
        response=response,
    )


def iter_pages(client: GraphClient, path: str, *, params: Params | None = None) -> Iterator[Page]:
    """Every page, empty ones included, until a page has no nextLink."""
    seen: set[str] = set()
    page = get_page(client, path, params=params)
    yield page
    while page.next_link:
        # A server that hands back a link it already gave would otherwise loop forever.
        if page.next_link in seen:
            raise GraphUnavailable(
                "Graph returned the same nextLink twice; stopped paging.",
                request_id=page.response.request_id,
                client_request_id=page.response.client_request_id,
            )
        seen.add(page.next_link)
        page = get_page(client, page.next_link)
        yield page


def iter_items(
    client: GraphClient, path: str, *, params: Mapping[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    for page in iter_pages(client, path, params=params):
        yield from page.items

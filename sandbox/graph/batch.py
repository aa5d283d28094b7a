"""JSON `$batch`: up to 20 requests, each run through the same dispatch, dependsOn honoured."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse

from sandbox.graph.context import GraphRequest
from sandbox.graph.responses import GraphError, bad_request, json_response
from sandbox.graph.validation import json_object

MAX_REQUESTS = 20
METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
# The dispatcher: serves a request, or answers it with the given error without running it.
Run = Callable[[GraphRequest, GraphError | None], HttpResponse]


@dataclass(frozen=True)
class Inner:
    id: str
    method: str
    url: str
    headers: dict[str, str]
    body: Any
    has_body: bool
    depends_on: tuple[str, ...]


def _text_field(item: dict[str, Any], name: str, index: int) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise bad_request(
            f"Request {index} in the batch has no '{name}': each request needs id, method and url.",
            target=f"requests[{index}].{name}",
        )
    return value


def _inner(item: Any, index: int) -> Inner:
    if not isinstance(item, dict):
        raise bad_request(f"Request {index} in the batch is not a JSON object.")
    method = _text_field(item, "method", index).upper()
    if method not in METHODS:
        raise bad_request(
            f"Request {index} in the batch has the unsupported method '{method}'.",
            target=f"requests[{index}].method",
        )
    headers = item.get("headers") or {}
    depends_on = item.get("dependsOn") or []
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise bad_request(f"Request {index} in the batch has malformed headers.")
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        raise bad_request(f"Request {index} in the batch has a malformed dependsOn.")
    return Inner(
        id=_text_field(item, "id", index),
        method=method,
        url=_text_field(item, "url", index),
        headers=headers,
        body=item.get("body"),
        has_body="body" in item and item["body"] is not None,
        depends_on=tuple(depends_on),
    )


def parse(body: bytes) -> list[Inner]:
    """The batch's requests; 400 for the whole batch when the envelope is wrong."""
    payload = json_object(body)
    items = payload.get("requests")
    if not isinstance(items, list) or not items:
        raise bad_request("The batch must carry a non-empty 'requests' array.", target="requests")
    if len(items) > MAX_REQUESTS:
        raise bad_request(
            f"The batch has {len(items)} requests; the limit is {MAX_REQUESTS}.",
            target="requests",
        )
    requests = [_inner(item, index) for index, item in enumerate(items)]
    seen: set[str] = set()
    for inner in requests:
        if inner.id in seen:
            raise bad_request(f"Request id '{inner.id}' appears more than once in the batch.")
        seen.add(inner.id)
    for inner in requests:
        for dependency in inner.depends_on:
            if dependency not in seen or dependency == inner.id:
                raise bad_request(
                    f"Request '{inner.id}' depends on '{dependency}', which is not another "
                    "request in this batch."
                )
    return requests


def execution_order(requests: list[Inner]) -> list[Inner]:
    """Listed order, except that a request runs after the ones it depends on; 400 on a cycle."""
    done: set[str] = set()
    ordered: list[Inner] = []
    pending = list(requests)
    while pending:
        ready = next((r for r in pending if set(r.depends_on) <= done), None)
        if ready is None:
            raise bad_request("The dependsOn chains in the batch form a cycle.")
        ordered.append(ready)
        done.add(ready.id)
        pending.remove(ready)
    return ordered


def _encoded_body(inner: Inner) -> bytes:
    if not inner.has_body:
        return b""
    if isinstance(inner.body, str):
        return inner.body.encode()
    return json.dumps(inner.body).encode()


def inner_request(outer: GraphRequest, inner: Inner) -> GraphRequest:
    """The inner request as the dispatcher sees it; it carries the outer request's token."""
    path, _, query = inner.url.lstrip("/").partition("?")
    headers = dict(inner.headers)
    if "authorization" in outer.headers:
        headers["authorization"] = outer.headers["authorization"]
    return GraphRequest(
        method=inner.method,
        path=path,
        query_string=query,
        headers=headers,
        body=_encoded_body(inner),
        base_url=outer.base_url,
        remote_addr=outer.remote_addr,
        batch_request_id=outer.request_id,
        version=outer.version,
        batch_claims=outer.claims,
        batch_facts=outer.batch_facts,
    )


def response_item(inner_id: str, response: HttpResponse) -> dict[str, Any]:
    headers = {name: value for name, value in response.items() if name.lower() != "content-length"}
    item: dict[str, Any] = {"id": inner_id, "status": response.status_code, "headers": headers}
    content = response.content
    if content:
        text = content.decode("utf-8", errors="replace")
        try:
            item["body"] = json.loads(text) if "json" in response.get("Content-Type", "") else text
        except ValueError:
            item["body"] = text
    return item


def execute(req: GraphRequest, *, run: Run) -> HttpResponse:
    """POST /$batch: 200 with one answer per request (424 where a dependency failed)."""
    requests = execution_order(parse(req.body))
    statuses: dict[str, int] = {}
    answers: list[dict[str, Any]] = []
    for inner in requests:
        failed = next((d for d in inner.depends_on if not 200 <= statuses[d] < 300), None)
        refusal = None
        if failed is not None:
            refusal = GraphError(
                424, "FailedDependency", f"The request it depends on ('{failed}') failed."
            )
        response = run(inner_request(req, inner), refusal)
        statuses[inner.id] = response.status_code
        answers.append(response_item(inner.id, response))
    return json_response({"responses": answers})

"""JSON `$batch`: many requests in few round trips, 20 per POST, with inner 429s retried."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from requests.structures import CaseInsensitiveDict

from graph.errors import GraphError, GraphUnavailable
from graph.responses import graph_error
from graph.retry import RetryBudget, is_idempotent, is_write, retry_after_seconds

if TYPE_CHECKING:
    from graph.client import GraphClient
    from graph.responses import GraphResponse

MAX_REQUESTS_PER_BATCH = 20  # Graph refuses a larger batch with 400.


@dataclass(frozen=True)
class BatchRequest:
    """One request inside a batch; `url` is relative to the Graph base URL."""

    id: str
    method: str
    url: str
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchResult:
    """The answer to one batched request; `error` is the typed error when it failed."""

    id: str
    status: int
    headers: Mapping[str, str]
    body: Any
    error: GraphError | None
    attempts: int
    request_id: str
    client_request_id: str

    @property
    def ok(self) -> bool:
        return self.error is None


def send_batch(client: GraphClient, requests: Iterable[BatchRequest]) -> dict[str, BatchResult]:
    """Results for every request, keyed by id in the order given; never raises a GraphError.

    Requests linked by `depends_on` travel in the same POST (Graph resolves dependsOn only within
    one batch); one deadline covers the whole call so a storm of 429s cannot hang a page. Each
    chunk's answers are kept whatever happens to later chunks: when a `$batch` POST itself fails
    (or is never sent, the deadline having passed), each request it carried gets that error as
    its own result, and the later chunks are still tried.
    """
    pending = list(requests)
    _validate(pending)
    results: dict[str, BatchResult] = {}
    budget = client.retry.budget()
    for chunk in _chunks(pending):
        _send_chunk(client, chunk, budget, results)
    return {request.id: results[request.id] for request in pending}


def _validate(requests: list[BatchRequest]) -> None:
    ids = [request.id for request in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("Batch request ids must be unique.")
    known = set(ids)
    for request in requests:
        if missing := set(request.depends_on) - known:
            raise ValueError(
                f"Batch request {request.id} depends on unknown ids {sorted(missing)}."
            )


def _chunks(requests: list[BatchRequest]) -> list[list[BatchRequest]]:
    """Groups of at most 20, keeping every dependsOn chain inside one group, in input order."""
    parent = {request.id: request.id for request in requests}

    def root(request_id: str) -> str:
        while parent[request_id] != request_id:
            parent[request_id] = parent[parent[request_id]]
            request_id = parent[request_id]
        return request_id

    for request in requests:
        for dependency in request.depends_on:
            parent[root(request.id)] = root(dependency)
    components: dict[str, list[BatchRequest]] = {}
    for request in requests:
        components.setdefault(root(request.id), []).append(request)

    chunks: list[list[BatchRequest]] = []
    for component in components.values():
        if len(component) > MAX_REQUESTS_PER_BATCH:
            raise ValueError(
                f"{len(component)} requests depend on each other; a batch holds at most "
                f"{MAX_REQUESTS_PER_BATCH}."
            )
        if not chunks or len(chunks[-1]) + len(component) > MAX_REQUESTS_PER_BATCH:
            chunks.append([])
        chunks[-1].extend(component)
    return chunks


def _send_chunk(
    client: GraphClient,
    chunk: list[BatchRequest],
    budget: RetryBudget,
    results: dict[str, BatchResult],
) -> None:
    attempts = dict.fromkeys((request.id for request in chunk), 0)
    pending = chunk
    while pending:
        in_flight = {request.id for request in pending}
        try:
            response = client.post(
                "/$batch",
                json={"requests": [_wire(client, request, in_flight) for request in pending]},
                # A batch of reads can be repeated after a 503/504; one write in it cannot.
                idempotent=all(is_idempotent(request.method) for request in pending),
                write=any(is_write(request.method) for request in pending),
                deadline=budget.deadline,
            )
        except GraphError as error:
            # The requests of this POST share its fate; answers from earlier rounds stand.
            for request in pending:
                attempts[request.id] += 1
                results[request.id] = _failed(request, error, attempts[request.id])
            return
        answers = _answers(response)
        retry: list[BatchRequest] = []
        waits: list[float] = []
        for request in pending:
            attempts[request.id] += 1
            answer = answers.get(request.id)
            if answer is None:
                results[request.id] = _missing(request, response, attempts[request.id])
                continue
            status, headers, body = answer
            if client.retry.should_retry_status(status, idempotent=is_idempotent(request.method)):
                retry.append(request)
                if (seconds := retry_after_seconds(headers)) is not None:
                    waits.append(seconds)
            results[request.id] = _result(
                client, request, response, answer, attempts[request.id], retry_after=None
            )
        retry_ids = _with_failed_dependents(pending, {request.id for request in retry}, results)
        if not retry_ids:
            return
        delay = budget.delay_for(max(waits) if waits else None)
        if not budget.allows(delay):
            # Past the bound: the throttled items report how long to wait; 424s stay as they are.
            for request in retry:
                answer = answers[request.id]
                results[request.id] = _result(
                    client, request, response, answer, attempts[request.id], retry_after=delay
                )
            return
        budget.wait(delay)
        pending = [request for request in chunk if request.id in retry_ids]


def _with_failed_dependents(
    pending: list[BatchRequest], retry_ids: set[str], results: dict[str, BatchResult]
) -> set[str]:
    """Add the 424s whose failed dependency is going again: they can succeed this time."""
    retry_ids = set(retry_ids)
    grew = True
    while grew:
        grew = False
        for request in pending:
            if (
                request.id not in retry_ids
                and results[request.id].status == 424
                and retry_ids.intersection(request.depends_on)
            ):
                retry_ids.add(request.id)
                grew = True
    return retry_ids


def _wire(client: GraphClient, request: BatchRequest, in_flight: set[str]) -> dict[str, Any]:
    url = request.url
    if url.startswith(client.base_url):
        url = url[len(client.base_url) :]
    item: dict[str, Any] = {"id": request.id, "method": request.method.upper(), "url": url}
    headers = dict(request.headers)
    if request.body is not None:
        item["body"] = request.body
        # Graph refuses an inner body without a Content-Type.
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
    if headers:
        item["headers"] = headers
    # Dependencies that already succeeded in an earlier round are not in this POST.
    if depends_on := [dependency for dependency in request.depends_on if dependency in in_flight]:
        item["dependsOn"] = depends_on
    return item


Answer = tuple[int, CaseInsensitiveDict[str], Any]


def _answers(response: GraphResponse) -> dict[str, Answer]:
    body = response.body if isinstance(response.body, dict) else {}
    answers: dict[str, Answer] = {}
    for item in body.get("responses") or []:
        if isinstance(item, dict) and "id" in item:
            answers[str(item["id"])] = (
                int(item.get("status") or 0),
                CaseInsensitiveDict(item.get("headers") or {}),
                item.get("body"),
            )
    return answers


def _result(
    client: GraphClient,
    request: BatchRequest,
    response: GraphResponse,
    answer: Answer,
    attempts: int,
    *,
    retry_after: float | None,
) -> BatchResult:
    status, headers, body = answer
    error = None
    if status < 400 and "json" in headers.get("Content-Type", "").lower() and isinstance(body, str):
        # An answer that says it is JSON but is not: Graph may have done the work.
        error = GraphUnavailable(
            f"Graph's answer to request {request.id} in the batch was unreadable JSON.",
            status=status,
            request_id=headers.get("request-id") or response.request_id,
            client_request_id=response.client_request_id,
        )
    elif status >= 400:
        error = graph_error(
            status=status,
            headers=headers,
            body=body,
            client_request_id=response.client_request_id,
            scopes=client.scopes,
            retry_after=retry_after,
            fallback_request_id=response.request_id,
        )
    if error is not None:
        error.write = is_write(request.method)
    return BatchResult(
        id=request.id,
        status=status,
        headers=headers,
        body=body,
        error=error,
        attempts=attempts,
        request_id=headers.get("request-id") or response.request_id,
        client_request_id=response.client_request_id,
    )


def _failed(request: BatchRequest, error: GraphError, attempts: int) -> BatchResult:
    """A request whose `$batch` POST failed as a whole: the POST's error is its own."""
    error.write = error.write or is_write(request.method)
    return BatchResult(
        id=request.id,
        status=error.status or 0,
        headers={},
        body=None,
        error=error,
        attempts=attempts,
        request_id=error.request_id,
        client_request_id=error.client_request_id,
    )


def _missing(request: BatchRequest, response: GraphResponse, attempts: int) -> BatchResult:
    missing = GraphUnavailable(
        f"Graph's $batch answer had no response for request {request.id}.",
        request_id=response.request_id,
        client_request_id=response.client_request_id,
    )
    missing.write = is_write(request.method)
    return BatchResult(
        id=request.id,
        status=0,
        headers={},
        body=None,
        error=missing,
        attempts=attempts,
        request_id=response.request_id,
        client_request_id=response.client_request_id,
    )


def collection_items(client: GraphClient, result: BatchResult) -> list[dict[str, Any]]:
    """A batched collection's items, following its nextLink (a large collection) if it has one;
    the request's typed error if it failed."""
    if result.error is not None:
        raise result.error
    body = result.body if isinstance(result.body, dict) else {}
    items = list(body.get("value") or [])
    if next_link := body.get("@odata.nextLink"):
        items += list(client.iter_items(next_link))
    return items

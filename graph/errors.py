"""Typed Graph errors: each carries the HTTP status, Graph's code and message, and the request ids.

Graph error bodies are parsed in exactly one place (`graph.responses.graph_error`);
everything above the client branches on these types and on `code`, never on `message`.
"""

from __future__ import annotations


class GraphError(Exception):
    """A Graph request failed. `status` is None when no HTTP answer arrived (timeout, reset).

    `message` is the service's sentence; Intune's Operation ID and Activity ID, which its
    messages carry for support tickets, are kept apart in `operation_id` and `activity_id`.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        request_id: str = "",
        client_request_id: str = "",
        target: str = "",
        operation_id: str = "",
        activity_id: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.target = target
        self.operation_id = operation_id
        self.activity_id = activity_id
        # Whether the request would have changed something in Graph (set by the client): a read
        # that fails never leaves a change behind, so its message must not speak of one.
        self.write = False

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"(Graph code {self.code})")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        return " ".join(parts)


class GraphAuthError(GraphError):
    """401: the token was refused, or no token could be had silently; sign in again."""

    def __init__(
        self, message: str, *, scopes: list[str] | None = None, claims_challenge: str = "", **kw
    ) -> None:
        super().__init__(message, **kw)
        self.scopes = scopes or []
        self.claims_challenge = claims_challenge


class GraphPermissionError(GraphError):
    """403: the signed-in user or the token lacks the permission (`required_permission`)."""

    def __init__(self, message: str, *, required_permission: str = "", **kw) -> None:
        super().__init__(message, **kw)
        self.required_permission = required_permission


class GraphNotFound(GraphError):
    """404: the object does not exist (any more)."""


class GraphDependencyFailed(GraphError):
    """424 inside a $batch: not attempted, because a request it depends on failed."""


class GraphBadRequest(GraphError):
    """400 / 409 / 412 / 422: Graph refused the request; its message says why."""


class GraphThrottled(GraphError):
    """429 (or 503/504 with Retry-After) past the retry bound; `retry_after` seconds to wait."""

    def __init__(self, message: str, *, retry_after: float = 0.0, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class GraphUnavailable(GraphError):
    """5xx, a timeout, a dropped connection or an unreadable answer."""


class GraphTimeout(GraphUnavailable):
    """No answer within the timeout. For a write, Graph may or may not have applied it."""


class GraphNotSent(GraphUnavailable):
    """The request never left: the Graph deadline left no time for it. Nothing was applied."""


def may_have_been_applied(error: GraphError) -> bool:
    """The one classification of a failed write, for single requests and `$batch` items alike.

    False — Graph certainly did not apply it: a refusal (4xx, including 429 throttling and a
    `$batch` item's 424), or a request that was never sent. True — nobody can tell: no answer
    (a timeout, a dropped connection), a 5xx, or a success status with an unreadable answer.
    """
    if isinstance(error, GraphNotSent):
        return False
    return error.status is None or not 400 <= error.status < 500

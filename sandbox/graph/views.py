"""The Django view in front of the sandbox's Graph: turns an HttpRequest into a GraphRequest."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox.graph.context import GraphRequest
from sandbox.graph.dispatch import dispatch
from sandbox.middleware import GRAPH_ANSWER


def graph_request(request: HttpRequest, path: str, version: str = "beta") -> GraphRequest:
    # The version root as this caller reached it (own host, /sandbox/ prefix or sandbox_serve).
    root = request.path[: len(request.path) - len(path)].rstrip("/")
    return GraphRequest(
        method=request.method or "GET",
        path=path,
        query_string=request.META.get("QUERY_STRING", ""),
        headers=dict(request.headers),
        body=request.body,
        base_url=request.build_absolute_uri(root),
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        read_timeout=request.META.get("sandbox.read_timeout"),
        version=version,
    )


@login_not_required
@csrf_exempt
def graph(request: HttpRequest, path: str, version: str = "beta") -> HttpResponse:
    """Every `/beta/…` and `/v1.0/…` request (both versions serve the same routes, GDAP's
    included); routing happens in `dispatch`, shared with $batch.

    No CSRF: Graph takes bearer tokens, never cookies. `GRAPH_ANSWER` has the outermost
    middleware strip the page-only headers and gzip the body.
    """
    response = dispatch(graph_request(request, path, version))
    setattr(response, GRAPH_ANSWER, True)
    return response

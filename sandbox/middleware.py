"""The sandbox's Graph answers look like Graph's, not like the dashboard's pages.

The sandbox runs inside the dashboard's Django project, so its answers pass through the same
middleware: this one (outermost, installed in sandbox mode only) takes back what a web page needs
and an API on graph.microsoft.com does not send (Content-Security-Policy, X-Frame-Options,
`Vary: Cookie`), and gzips the body when the client accepts it, as Graph does.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware
from django.utils.cache import patch_vary_headers

# Set on a response by the Graph view (sandbox.graph.views).
GRAPH_ANSWER = "sandbox_graph_answer"
PAGE_ONLY_HEADERS = (
    "Content-Security-Policy",
    "Content-Security-Policy-Report-Only",
    "X-Frame-Options",
)


class GraphAnswerMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.gzip = GZipMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not getattr(response, GRAPH_ANSWER, False):
            return response
        for name in PAGE_ONLY_HEADERS:
            if name in response:
                del response[name]
        vary = [v.strip() for v in response.get("Vary", "").split(",") if v.strip()]
        if "Vary" in response:
            del response["Vary"]
        kept = [v for v in vary if v.lower() != "cookie"]
        if kept:
            patch_vary_headers(response, kept)
        return self.gzip.process_response(request, response)

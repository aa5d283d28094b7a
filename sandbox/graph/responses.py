"""Graph-shaped answers: JSON and plain-text bodies, error bodies and the headers Graph sends."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import http_date

from sandbox.graph.context import GraphRequest
from sandbox.graph.dialects import Dialect, intune_message

JSON_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)
DIAGNOSTIC = json.dumps(
    {
        "ServerInfo": {
            "DataCenter": "Sandbox",
            "Slice": "E",
            "Ring": "0",
            "ScaleUnit": "000",
            "RoleInstance": "SANDBOX-GRAPH",
        }
    },
    separators=(",", ":"),
)


class GraphError(Exception):
    """Raised by handlers; the dispatcher turns it into Graph's error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.headers = headers or {}


def bad_request(message: str, *, target: str = "", code: str = "BadRequest") -> GraphError:
    return GraphError(400, code, message, target=target)


def json_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, separators=(",", ":")), status=status, content_type=JSON_CONTENT_TYPE
    )


def text_response(text: str) -> HttpResponse:
    return HttpResponse(text, content_type="text/plain;charset=utf-8")


def no_content() -> HttpResponse:
    """204: no body, so no Content-Type either (Graph sends none)."""
    response = HttpResponse(status=204)
    del response["Content-Type"]
    return response


def error_response(
    req: GraphRequest, error: GraphError, dialect: Dialect = Dialect.PLAIN
) -> HttpResponse:
    """Graph's error body, its `message` in the dialect of the service that refused."""
    message = intune_message(req, error.message) if dialect == Dialect.INTUNE else error.message
    body: dict[str, Any] = {"code": error.code, "message": message}
    if error.target:
        body["target"] = error.target
    body["innerError"] = {
        "date": timezone.now().strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": req.request_id,
        "client-request-id": req.client_request_id,
    }
    response = json_response({"error": body}, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def stamp(req: GraphRequest, response: HttpResponse) -> HttpResponse:
    """Add the headers every Graph answer carries (kept when an injected fault set its own)."""
    response.headers.setdefault("request-id", req.request_id)
    response.headers.setdefault("client-request-id", req.client_request_id)
    response.headers.setdefault("Date", http_date())
    response.headers.setdefault("x-ms-ags-diagnostic", DIAGNOSTIC)
    response.headers.setdefault("Cache-Control", "no-cache")
    if response.status_code != 204:
        response.headers.setdefault("OData-Version", "4.0")
    return response

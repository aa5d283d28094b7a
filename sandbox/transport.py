"""A requests transport adapter that hands each request to the sandbox in this process.

Mounted on the dashboard's outbound session for the sandbox's hosts (settings.OUTBOUND_ADAPTERS),
so MSAL and the Graph client speak real HTTP to the sandbox with no socket, no TLS and no second
process. The request runs through Django's handler with the sandbox's URLconf, but without the
request_started/request_finished signals: their close_old_connections would close the database
connection of the dashboard request that is waiting for this answer. Injected faults that leave
the client without an answer (sandbox.faults) become the exceptions requests raises on the wire.
"""

from __future__ import annotations

import functools
import gzip
import io
import sys
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.http import HttpRequest, HttpResponseBase
from django.urls import get_urlconf, set_urlconf
from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from sandbox import faults

SANDBOX_URLCONF = "sandbox.root_urls"


class SandboxHandler(WSGIHandler):
    """Django's handler with the sandbox's URLconf, called directly (no signals)."""

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = SANDBOX_URLCONF
        return super().get_response(request)


@functools.cache
def sandbox_handler() -> SandboxHandler:
    return SandboxHandler()


def _environ(request: PreparedRequest, timeout: Any) -> dict[str, Any]:
    parts = urlsplit(request.url or "")
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method or "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(parts.path, encoding="latin-1") or "/",
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "localhost",
        "SERVER_PORT": str(parts.port or (443 if parts.scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "HTTP_HOST": parts.netloc,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "sandbox.in_process": True,
        "sandbox.read_timeout": timeout[1] if isinstance(timeout, tuple) else timeout,
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        if key not in {"CONTENT_TYPE", "CONTENT_LENGTH", "HOST"}:
            environ[f"HTTP_{key}"] = value
    return environ


class InProcessTransport(BaseAdapter):
    def send(  # type: ignore[override]
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> Response:
        environ = _environ(request, timeout)
        django_request = WSGIRequest(environ)
        previous_urlconf = get_urlconf()
        client_request_id = request.headers.get("client-request-id", "")
        try:
            with faults.request_scope(client_request_id=client_request_id) as scope:
                django_response = sandbox_handler().get_response(django_request)
                content = (
                    b"".join(django_response.streaming_content)
                    if django_response.streaming
                    else django_response.content
                )
        finally:
            set_urlconf(previous_urlconf)
        abort = scope.abort or getattr(django_response, "sandbox_fault", "")
        if abort == faults.DROP:
            raise requests.ConnectionError(
                "('Connection aborted.', RemoteDisconnected('Remote end closed connection "
                "without response'))",
                request=request,
            )
        if abort == faults.TIMEOUT:
            host = urlsplit(request.url or "").hostname
            raise requests.ReadTimeout(
                f"HTTPSConnectionPool(host='{host}', port=443): Read timed out. "
                f"(read timeout={environ['sandbox.read_timeout']})",
                request=request,
            )
        return self._build_response(request, django_response, content)

    def _build_response(
        self, request: PreparedRequest, django_response: HttpResponseBase, content: bytes
    ) -> Response:
        response = Response()
        response.status_code = django_response.status_code
        response.reason = django_response.reason_phrase
        response.headers = CaseInsensitiveDict(dict(django_response.items()))
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = io.BytesIO(content)
        # As urllib3 does on the wire: the body decoded, the header kept.
        if response.headers.get("Content-Encoding", "").lower() == "gzip":
            content = gzip.decompress(content)
        response._content = content
        response.url = request.url or ""
        response.request = request
        response.connection = self
        return response

    def close(self) -> None:
        pass

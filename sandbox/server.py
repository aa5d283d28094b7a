"""The sandbox alone as a threaded HTTPS server on loopback (`sandbox_serve`, socket tests)."""

from __future__ import annotations

import logging
import ssl
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.servers.basehttp import ServerHandler, ThreadedWSGIServer, WSGIRequestHandler
from django.db.backends.base.base import BaseDatabaseWrapper

from sandbox import faults
from sandbox.tls import CertificateFiles, ensure_certificate
from sandbox.transport import sandbox_handler

logger = logging.getLogger("sandbox.server")
HOST = "127.0.0.1"
DEFAULT_PORT = 8443
# A client that connects and never finishes its TLS handshake or request must not pin a thread.
SOCKET_TIMEOUT_SECONDS = 60.0

StartResponse = Callable[..., Any]


class DropConnection(Exception):
    """Raised by the app when an injected fault says: close the socket, send nothing."""


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """The sandbox's WSGI app with fault scopes.

    Django's full handler runs here (signals included): this is a server of its own, so closing
    the database connection after each request is what we want.
    """
    client_request_id = environ.get("HTTP_CLIENT_REQUEST_ID", "")
    with faults.request_scope(client_request_id=client_request_id) as scope:
        response = sandbox_handler()(environ, start_response)
    if scope.abort == faults.DROP or getattr(response, "sandbox_fault", "") == faults.DROP:
        response.close()  # type: ignore[attr-defined]
        raise DropConnection
    return response


class SandboxServerHandler(ServerHandler):
    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], DropConnection):
            # Nothing was written yet (start_response only buffers): close without an answer.
            self.request_handler.close_connection = True  # type: ignore[attr-defined]
            logger.info('"%s" dropped (injected fault)', self.request_handler.requestline)  # type: ignore[attr-defined]
            return
        super().handle_error()


class SandboxRequestHandler(WSGIRequestHandler):
    server: SandboxServer

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["HTTPS"] = "on"  # wsgiref derives wsgi.url_scheme from it
        return environ

    def handle_one_request(self) -> None:
        """Django's version, with a handler that can drop the connection."""
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except TimeoutError:
            # An idle keep-alive connection (a client's pool) timed out: close it quietly.
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = SandboxServerHandler(
            self.rfile, self.wfile, self.get_stderr(), self.get_environ()
        )
        handler.request_handler = self
        handler.run(self.server.get_app())

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)


class SandboxServer(ThreadedWSGIServer):
    """Accepts on the main loop; each connection's TLS handshake runs in its own thread."""

    def __init__(
        self,
        address: tuple[str, int],
        tls_context: ssl.SSLContext,
        *,
        quiet: bool = False,
        connections_override: Mapping[str, BaseDatabaseWrapper] | None = None,
    ) -> None:
        super().__init__(
            address,
            SandboxRequestHandler,
            # SO_REUSEADDR: rebind at once after a restart (closed connections linger in
            # TIME_WAIT for a minute); a port another server listens on is still refused.
            allow_reuse_address=True,
            connections_override=connections_override,
        )
        self.tls_context = tls_context
        self.quiet = quiet
        self.set_app(application)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(SOCKET_TIMEOUT_SECONDS)
        try:
            tls_socket = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            logger.info("TLS handshake with %s failed: %s", client_address[0], exc)
            return
        try:
            self.RequestHandlerClass(tls_socket, client_address, self)
        finally:
            tls_socket.close()


def tls_context(files: CertificateFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.cert_file, files.key_file)
    return context


def default_certificate_dir() -> Path:
    return Path(settings.DATA_DIR) / "sandbox-tls"


@dataclass
class RunningSandbox:
    """A sandbox server started by `start()`."""

    server: SandboxServer
    thread: threading.Thread | None
    certificate: CertificateFiles

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def origin(self) -> str:
        return f"https://{HOST}:{self.port}"

    def authority(self, tenant_id: str | None = None) -> str:
        return f"{self.origin}/{tenant_id or settings.SANDBOX_TENANT_ID}"

    @property
    def graph_base_url(self) -> str:
        return f"{self.origin}/beta"

    @property
    def ca_file(self) -> Path:
        return self.certificate.ca_file

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join()
        self.server.server_close()


def create(
    *,
    port: int = DEFAULT_PORT,
    certificate_dir: Path | None = None,
    quiet: bool = False,
    connections_override: Mapping[str, BaseDatabaseWrapper] | None = None,
) -> RunningSandbox:
    """A bound server (port 0: a free one), not yet serving."""
    files = ensure_certificate(certificate_dir or default_certificate_dir())
    server = SandboxServer(
        (HOST, port),
        tls_context(files),
        quiet=quiet,
        connections_override=connections_override,
    )
    return RunningSandbox(server=server, thread=None, certificate=files)


def start(
    *,
    port: int = 0,
    certificate_dir: Path | None = None,
    quiet: bool = True,
    connections_override: Mapping[str, BaseDatabaseWrapper] | None = None,
) -> RunningSandbox:
    """Serve in a background thread (tests); call `.stop()` when done."""
    sandbox = create(
        port=port,
        certificate_dir=certificate_dir,
        quiet=quiet,
        connections_override=connections_override,
    )
    sandbox.thread = threading.Thread(
        target=sandbox.serve_forever, name="sandbox-server", daemon=True
    )
    sandbox.thread.start()
    return sandbox

"""Local receivers for the notification tests: an HTTP server that verifies the webhook
signature as the README tells a receiver to, and an SMTP server (aiosmtpd), each in a thread."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool | None  # None: no secret to check with

    def json(self) -> Any:
        return json.loads(self.body)


def signature_ok(
    secret: str, headers: dict[str, str], body: bytes, *, tolerance: int = 300
) -> bool:
    """The README's receiver: HMAC-SHA256 over "<timestamp>.<body>", a recent timestamp."""
    timestamp = headers.get("X-Dashboard-Timestamp", "")
    presented = headers.get("X-Dashboard-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(f"v1={expected.hexdigest()}", presented)


@dataclass
class WebhookReceiver:
    """Answers each POST with the next status of `statuses` (then the last one, 200 if none)."""

    secret: str = ""
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0  # seconds before each answer (a slow receiver)
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def answer(self) -> int:
        index = len(self.received) - 1
        if not self.statuses:
            return 200
        return self.statuses[min(index, len(self.statuses) - 1)]

    def bodies(self) -> list[Any]:
        return [request.json() for request in self.received]


@contextmanager
def webhook_receiver(
    secret: str = "",
    statuses: list[int] | None = None,
    path: str = "/hook/s3cr3t-path",
    delay: float = 0.0,
) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(secret=secret, statuses=list(statuses or []), delay=delay)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = dict(self.headers.items())
            receiver.received.append(
                Received(
                    path=self.path,
                    headers=headers,
                    body=body,
                    signature_ok=signature_ok(secret, headers, body) if secret else None,
                )
            )
            status = receiver.answer()
            time.sleep(receiver.delay)
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 400 else b"receiver says no")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Inbox:
    messages: list[Envelope] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def parsed(self) -> list[EmailMessage]:
        """Each message as the mail client reads it (headers decoded)."""
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(message.original_content or b"") for message in self.messages]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server() -> Iterator[Inbox]:
    """An SMTP server on a free local port (its own asyncio loop in its own thread)."""
    inbox = Inbox(port=_free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()

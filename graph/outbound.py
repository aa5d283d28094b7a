"""The one requests.Session every outbound call (MSAL and Graph) goes through."""

from __future__ import annotations

import functools
from typing import Any

import requests
from django.conf import settings
from django.utils.module_loading import import_string

USER_AGENT = "ConnectorDashboard/0.1 (+https://github.com/connector-dashboard)"


class OutboundSession(requests.Session):
    """A Session with a default timeout, so no outbound call can hang a page.

    The timeout is OUTBOUND_TIMEOUT_SECONDS, read at each request, unless `timeout` is set.
    """

    def __init__(self, *, timeout: float | None = None) -> None:
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = USER_AGENT

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        default = self.timeout if self.timeout is not None else settings.OUTBOUND_TIMEOUT_SECONDS
        kwargs.setdefault("timeout", default)
        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override Session.verify
        # (psf/requests#3829): a per-request verify keeps OUTBOUND_CA_BUNDLE in force.
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


def build_outbound_session() -> OutboundSession:
    session = OutboundSession()
    if settings.OUTBOUND_CA_BUNDLE:
        session.verify = settings.OUTBOUND_CA_BUNDLE
    for prefix, dotted_path in settings.OUTBOUND_ADAPTERS.items():
        session.mount(prefix, import_string(dotted_path)())
    return session


@functools.cache
def outbound_session() -> OutboundSession:
    """The process-wide session (connection pools and adapters are built once)."""
    return build_outbound_session()

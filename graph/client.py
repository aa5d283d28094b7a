"""The Graph client every feature uses: tokens, request ids, retries and typed errors."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.structures import CaseInsensitiveDict

from graph import batch as batching
from graph import paging
from graph.deadline import Deadline
from graph.errors import GraphError, GraphNotSent, GraphTimeout, GraphUnavailable
from graph.responses import (
    GraphResponse,
    MalformedBody,
    claims_challenge,
    graph_error,
    parse_body,
)
from graph.retry import (
    RetryBudget,
    RetryPolicy,
    is_idempotent,
    is_write,
    retry_after_seconds,
)

logger = logging.getLogger(__name__)

Params = Mapping[str, str | int | bool]


class TokenProvider(Protocol):
    """Returns an access token for `scopes`; `force_refresh` asks for a new one, not the cached.

    Raises GraphAuthError (with the scopes) when no token can be had without the user.
    """

    def __call__(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str: ...


class RequestMeter(Protocol):
    """Told before each HTTP request the client sends (each retry too) how many Graph requests
    it carries against the throttling limits: 1, or each request inside a `$batch`. It may wait,
    or raise to stop the request being sent (a background job's throttling budget)."""

    def __call__(self, requests: int) -> None: ...


def requests_carried(url: str, json: Any) -> int:
    """Graph counts each request inside a `$batch` on its own against its limits."""
    if urlsplit(url).path.endswith("/$batch") and isinstance(json, dict):
        return len(json.get("requests") or []) or 1
    return 1


class GraphClient:
    """Calls Graph on behalf of one signed-in user, over the process-wide outbound session."""

    def __init__(
        self,
        token_provider: TokenProvider,
        *,
        base_url: str | None = None,
        scopes: Sequence[str] | None = None,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        meter: RequestMeter | None = None,
    ) -> None:
        if session is None:
            from graph.outbound import outbound_session

            session = outbound_session()
        self.token_provider = token_provider
        self.base_url = (base_url or settings.GRAPH_BASE_URL).rstrip("/")
        self.scopes: tuple[str, ...] = tuple(scopes or settings.GRAPH_SCOPES)
        self.session = session
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.meter = meter
        self._origin = _origin(self.base_url)
        self._token: str | None = None

    # -- verbs ---------------------------------------------------------------------------------

    def get(self, path: str, *, params: Params | None = None, **kw: Any) -> GraphResponse:
        return self.request("GET", path, params=params, **kw)

    def post(self, path: str, *, json: Any = None, **kw: Any) -> GraphResponse:
        return self.request("POST", path, json=json, **kw)

    def patch(self, path: str, *, json: Any = None, **kw: Any) -> GraphResponse:
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path: str, **kw: Any) -> GraphResponse:
        return self.request("DELETE", path, **kw)

    def page(self, path: str, *, params: Params | None = None, **kw: Any) -> paging.Page:
        """One page of a collection: its items and the nextLink to ask for the next one."""
        return paging.get_page(self, path, params=params, **kw)

    def iter_pages(self, path: str, *, params: Params | None = None) -> Iterator[paging.Page]:
        """Every page of a collection, following `@odata.nextLink` to the last one."""
        return paging.iter_pages(self, path, params=params)

    def iter_items(self, path: str, *, params: Params | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a collection, following `@odata.nextLink` to the last page."""
        return paging.iter_items(self, path, params=params)

    def batch(self, items: Iterable[batching.BatchRequest]) -> dict[str, batching.BatchResult]:
        """Send any number of requests through `$batch` (20 per POST); results by request id."""
        return batching.send_batch(self, items)

    # -- the one request path --------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        client_request_id: str | None = None,
        idempotent: bool | None = None,
        write: bool | None = None,
        deadline: Deadline | None = None,
    ) -> GraphResponse:
        """Send one logical request, retrying as the policy allows; raise a GraphError subclass.

        `client_request_id` lets a caller (the audit log) correlate its records with Graph's;
        `idempotent` overrides the method's default, e.g. for a `$batch` of GETs, and `write`
        whether it changes anything (errors carry it, so a read's never speak of changes);
        `deadline` overrides the policy's (a `$batch` shares one across its POSTs).
        """
        method = method.upper()
        changes = is_write(method) if write is None else write
        budget = RetryBudget(self.retry, deadline) if deadline else self.retry.budget()
        try:
            return self._send(
                method,
                self.url_for(path),
                params=params,
                json=json,
                headers=headers,
                crid=client_request_id or str(uuid.uuid4()),
                may_repeat=is_idempotent(method) if idempotent is None else idempotent,
                changes=changes,
                budget=budget,
            )
        except GraphError as error:
            error.write = changes
            raise

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Params | None,
        json: Any,
        headers: Mapping[str, str] | None,
        crid: str,
        may_repeat: bool,
        changes: bool,
        budget: RetryBudget,
    ) -> GraphResponse:
        if not budget.can_attempt():
            raise GraphNotSent(
                f"Graph's deadline ({budget.deadline.seconds:g} s) left no time to send "
                f"{method} {urlsplit(url).path}: it was not sent.",
                client_request_id=crid,
            )
        refreshed = False
        started = time.perf_counter()
        attempts = 0
        while True:
            attempts += 1
            token = self._access_token(force_refresh=False)
            if self.meter is not None:
                self.meter(requests_carried(url, json))
            try:
                raw = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=self._headers(token, crid, headers),
                    # requests lets REQUESTS_CA_BUNDLE override session.verify (psf/requests#3829),
                    # which would drop OUTBOUND_CA_BUNDLE; passed per request, it holds.
                    verify=self.session.verify,
                    # Never past the deadline, whatever the configured timeout.
                    timeout=budget.attempt_timeout(
                        self.timeout or getattr(self.session, "timeout", None)
                    ),
                )
            except requests.RequestException as exc:
                error = _transport_error(exc, method, url, crid, changes=changes)
                delay = budget.delay_for(None)
                if may_repeat and _may_heal(exc) and budget.allows(delay):
                    logger.warning(
                        "Graph %s %s failed (%s); retry in %.1f s", method, url, exc, delay
                    )
                    budget.wait(delay)
                    continue
                raise error from exc

            status = raw.status_code
            if status == 401 and not refreshed and not claims_challenge(raw.headers):
                # An expired or revoked token: one fresh token, one more try (401 = not processed).
                refreshed = True
                self._access_token(force_refresh=True)
                if budget.can_attempt():
                    continue
            if self.retry.should_retry_status(status, idempotent=may_repeat):
                retry_after = retry_after_seconds(raw.headers)
                delay = budget.delay_for(retry_after)
                if budget.allows(delay):
                    logger.warning(
                        "Graph %s %s answered %s (client-request-id %s); retry in %.1f s",
                        method,
                        url,
                        status,
                        crid,
                        delay,
                    )
                    budget.wait(delay)
                    continue
                # Past the deadline: answer now, saying how long Graph asked to wait.
                raise self._error(raw, crid, retry_after=delay if status == 429 else retry_after)
            if status >= 400:
                raise self._error(raw, crid, retry_after=None)
            return self._response(raw, method, url, crid, started, attempts)

    def url_for(self, path: str) -> str:
        """An absolute URL; absolute input (a nextLink) must stay on Graph's origin (the token)."""
        if "://" in path:
            if _origin(path) != self._origin:
                raise ValueError(f"Refusing to send a Graph token to {_origin(path)}.")
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    # -- helpers ---------------------------------------------------------------------------------

    def _access_token(self, *, force_refresh: bool) -> str:
        if self._token is None or force_refresh:
            self._token = self.token_provider(self.scopes, force_refresh=force_refresh)
        return self._token

    def _headers(
        self, token: str, client_request_id: str, extra: Mapping[str, str] | None
    ) -> dict[str, str]:
        return {
            "Accept": "application/json",
            **(extra or {}),
            "Authorization": f"Bearer {token}",
            "client-request-id": client_request_id,
            "return-client-request-id": "true",
        }

    def _error(self, raw: requests.Response, crid: str, *, retry_after: float | None) -> GraphError:
        try:
            body = parse_body(raw.content, raw.headers.get("Content-Type", ""))
        except MalformedBody:
            body = raw.content.decode("utf-8", errors="replace")
        return graph_error(
            status=raw.status_code,
            headers=raw.headers,
            body=body,
            client_request_id=crid,
            scopes=self.scopes,
            retry_after=retry_after,
        )

    def _response(
        self,
        raw: requests.Response,
        method: str,
        url: str,
        crid: str,
        started: float,
        attempts: int,
    ) -> GraphResponse:
        headers = CaseInsensitiveDict(raw.headers)
        request_id = headers.get("request-id", "")
        try:
            body = parse_body(raw.content, headers.get("Content-Type", ""))
        except MalformedBody as exc:
            raise GraphUnavailable(
                str(exc),
                status=raw.status_code,
                request_id=request_id,
                client_request_id=crid,
            ) from exc
        return GraphResponse(
            method=method,
            url=url,
            status=raw.status_code,
            headers=headers,
            body=body,
            request_id=request_id,
            client_request_id=headers.get("client-request-id", crid),
            date=headers.get("Date", ""),
            diagnostic=headers.get("x-ms-ags-diagnostic", ""),
            duration=time.perf_counter() - started,
            attempts=attempts,
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _may_heal(exc: requests.RequestException) -> bool:
    """A timeout or a dropped connection may not happen again; a certificate error will."""
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(
        exc, requests.Timeout | requests.ConnectionError | requests.exceptions.ChunkedEncodingError
    )


def _transport_error(
    exc: requests.RequestException, method: str, url: str, crid: str, *, changes: bool
) -> GraphError:
    if isinstance(exc, requests.Timeout):
        outcome = " The change may or may not have been applied." if changes else ""
        return GraphTimeout(
            f"Graph did not answer {method} {urlsplit(url).path} in time.{outcome}",
            client_request_id=crid,
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return GraphUnavailable(
            f"Graph's TLS certificate at {_origin(url)} was not trusted ({exc}).",
            client_request_id=crid,
        )
    return GraphUnavailable(
        f"Graph could not be reached or dropped the connection ({type(exc).__name__}).",
        client_request_id=crid,
    )

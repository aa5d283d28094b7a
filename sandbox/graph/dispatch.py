"""Serve one Graph request: faults, token, route, permission, handler, headers, request log."""

from __future__ import annotations

import functools
import re
from typing import Any

from django.db import transaction
from django.http import HttpResponse

from sandbox import faults, scenarios
from sandbox.graph import auth, batch
from sandbox.graph.context import GraphRequest
from sandbox.graph.dialects import Dialect, dialect_for
from sandbox.graph.responses import GraphError, bad_request, error_response, stamp
from sandbox.graph.routes import ROUTES, Endpoint, route
from sandbox.models import RequestLog
from sandbox.scope import tenant_scope


def dispatch(req: GraphRequest, refusal: GraphError | None = None) -> HttpResponse:
    """The answer to one Graph request (top-level or inside a $batch), logged.

    `refusal` answers the request without running it (a $batch request whose dependency failed).
    """
    if refusal is not None:
        response = error_response(req, refusal)
    else:
        response = faults.intercept(req.method, req.wire_path, req.read_timeout)
    if response is None:
        response = _serve(req)
    stamp(req, response)
    _log(req, response)
    return response


# $batch runs its inner requests through `dispatch`, so it is routed here rather than in routes.
# Not atomic as a whole: each inner request has its own transaction, and an injected delay must
# not hold the database's write lock.
BATCH_ROUTE = route(
    r"\$batch",
    POST=Endpoint(functools.partial(batch.execute, run=dispatch), permissions=(), atomic=False),
)


def _serve(req: GraphRequest) -> HttpResponse:
    # Graph's front door answers in the plain dialect; past routing, the service behind it does.
    dialect = Dialect.PLAIN
    try:
        _check_media_type(req)
        # A request in a $batch carries the batch's token, validated once for the batch.
        req.claims = req.batch_claims or auth.authenticate(req)
        endpoint, arguments = _resolve(req)
        dialect = dialect_for(req.path)
        auth.require_any(req.claims, endpoint.permissions, dialect)
        # Graph answers for the tenant the token was issued for, with the roles held there.
        tenant_id = str(req.claims["tid"])
        with tenant_scope(tenant_id):
            auth.require_tenant_role(req, dialect)
            # A scenario whose time has come changes what this request sees (sandbox.scenarios);
            # the requests of a $batch see what their batch saw when it arrived.
            if not req.batch_request_id:
                scenarios.apply_due(tenant_id=tenant_id)
            if not endpoint.atomic:
                return endpoint.handler(req, **arguments)
            with transaction.atomic():
                return endpoint.handler(req, **arguments)
    except GraphError as error:
        return error_response(req, error, dialect)


def _check_media_type(req: GraphRequest) -> None:
    """A body must be labelled JSON: missing in a batch is a 400, anything else a 415."""
    if not req.body:
        return
    content_type = req.headers.get("content-type")
    if content_type is None and req.batch_request_id:
        raise bad_request(
            "A request in a batch that has a body must specify the Content-Type header.",
            target="headers",
        )
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise GraphError(
            415,
            "UnsupportedMediaType",
            f"The content type '{media_type or '(none)'}' is not supported: send the body as "
            "application/json.",
        )


def _resolve(req: GraphRequest) -> tuple[Endpoint, dict[str, Any]]:
    if req.batch_request_id and BATCH_ROUTE.pattern.fullmatch(req.path):
        raise bad_request("A request in a batch cannot itself be a $batch request.")
    routes = ROUTES if req.batch_request_id else (*ROUTES, BATCH_ROUTE)
    for candidate in routes:
        match = candidate.pattern.fullmatch(req.path)
        if match is None:
            continue
        endpoint = candidate.methods.get(req.method)
        if endpoint is None:
            allowed = ", ".join(sorted(candidate.methods))
            raise GraphError(
                405,
                "BadRequest",
                f"The HTTP method '{req.method}' is not supported on '{req.wire_path}'; "
                f"use {allowed}.",
                headers={"Allow": allowed},
            )
        return endpoint, match.groupdict()
    segment = next((part for part in reversed(req.path.split("/")) if part), req.path or "(root)")
    raise bad_request(f"Resource not found for the segment '{_short(segment)}'.")


def _short(text: str) -> str:
    return re.sub(r"\s+", " ", text)[:200]


def _log(req: GraphRequest, response: HttpResponse) -> None:
    RequestLog.objects.create(
        method=req.method,
        path=req.wire_path,
        query=req.query_string,
        status=response.status_code,
        request_id=response.get("request-id", req.request_id)[:36],
        client_request_id=req.client_request_id[:255],
        batch_request_id=req.batch_request_id,
        tenant_id=str((req.claims or {}).get("tid", ""))[:36],
    )

"""The one place API errors take their shape: `{"message": "...", "extra": {...}}`.

Graph's failures and domain refusals take the same status and message as on the pages
(`kernel.faults`); Graph's code and request id go in `extra`, throttling passes Graph's wait on as
`Retry-After`, and a refusal adds its own `extra()` (an edit that lost a race: both versions).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from graph.errors import (
    GraphAuthError,
    GraphError,
    GraphPermissionError,
    GraphThrottled,
)
from kernel.errors import Refusal
from kernel.faults import (
    fault_status,
    graph_fault_message,
    tenant_consent_link,
    tenant_refusal_message,
    tenant_refusal_status,
)
from kernel.identity import TenantRefused


def _graph_response(error: GraphError) -> Response:
    extra: dict[str, Any] = {
        "graph_status": error.status,
        "graph_code": error.code,
        "graph_request_id": error.request_id,
        "client_request_id": error.client_request_id,
        "graph_operation_id": error.operation_id,
        "graph_activity_id": error.activity_id,
    }
    if isinstance(error, GraphPermissionError) and error.required_permission:
        extra["required_permission"] = error.required_permission
    response = Response(
        {"message": graph_fault_message(error), "extra": extra}, fault_status(error)
    )
    if isinstance(error, GraphThrottled) and error.retry_after:
        response["Retry-After"] = str(max(1, round(error.retry_after)))
    if isinstance(error, GraphAuthError):
        response["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
    return response


def _tenant_response(exc: TenantRefused, context: dict[str, Any]) -> Response:
    request = context["request"]
    extra = {
        "tenant_id": exc.tenant_id,
        "reason": exc.reason,
        "entra_error": exc.detail,
        "admin_consent_url": tenant_consent_link(request, exc),
    }
    message = tenant_refusal_message(request, exc)
    return Response({"message": message, "extra": extra}, tenant_refusal_status(exc))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, TenantRefused):
        return _tenant_response(exc, context)
    if isinstance(exc, GraphError):
        return _graph_response(exc)
    if isinstance(exc, Refusal):
        # A rule refused the change (an edit that lost a race, a group in use, …).
        return Response({"message": exc.message, "extra": exc.extra()}, exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "message": "The request has invalid fields.",
            "extra": {"fields": exc.detail},
        }
    else:
        detail = getattr(exc, "detail", str(exc))
        response.data = {"message": str(detail), "extra": {}}
    return response

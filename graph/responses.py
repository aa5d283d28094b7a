"""Graph answers: the response record, and the one place Graph error bodies become typed errors."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph.errors import (
    GraphAuthError,
    GraphBadRequest,
    GraphDependencyFailed,
    GraphError,
    GraphNotFound,
    GraphPermissionError,
    GraphThrottled,
    GraphTimeout,
    GraphUnavailable,
)


@dataclass(frozen=True)
class GraphResponse:
    """A successful Graph answer with what the audit log records about it."""

    method: str
    url: str
    status: int
    headers: Mapping[str, str]
    body: Any
    request_id: str
    client_request_id: str
    date: str
    diagnostic: str
    duration: float
    attempts: int = 1

    @property
    def value(self) -> list[Any]:
        """The items of a collection answer (empty when there are none)."""
        if isinstance(self.body, dict):
            return list(self.body.get("value") or [])
        return []


class MalformedBody(ValueError):
    """The answer said it was JSON but could not be parsed."""


def parse_body(content: bytes, content_type: str) -> Any:
    """JSON answers as Python values, plain text (e.g. `/$count`) as str, nothing as None."""
    if not content:
        return None
    if "json" in content_type.lower():
        try:
            return json.loads(content)
        except ValueError as exc:
            raise MalformedBody(f"Graph sent unreadable JSON ({exc}).") from exc
    return content.decode("utf-8", errors="replace")


# Delegated permission names look like `Directory.ReadWrite.All` or `User.Read`.
_PERMISSION = re.compile(
    r"\b[A-Z][A-Za-z]*(?:\.[A-Z][A-Za-z]*)*\."
    r"(?:Read|ReadWrite|ReadBasic|Write|Manage|Send)[A-Za-z]*(?:\.[A-Z][A-Za-z]*)*\b"
)
_AUTH_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*"([^"]*)"')
# Intune's suffix on every error sentence (docs/graph-errors.md).
_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_INTUNE_SUFFIX = re.compile(
    rf"\s*-\s+Operation ID \(for customer support\):\s*(?P<operation>{_GUID})?"
    rf"(?:\s+-\s+Activity ID:\s*(?P<activity>{_GUID})?)?"
    r"(?:\s+-\s+Url:.*?)?(?:\s+-\s+CustomApiErrorPhrase:.*)?\s*$",
    re.DOTALL,
)


@dataclass(frozen=True)
class ErrorText:
    """An error message as the admin should read it, and the support ids Intune wraps it with."""

    message: str
    operation_id: str = ""
    activity_id: str = ""


def error_text(raw: str) -> ErrorText:
    """Both dialects: a directory's plain sentence as-is; Intune's JSON wrapper (its `Message`)
    without the " - Operation ID … - Activity ID … - Url … - CustomApiErrorPhrase" suffix."""
    text = raw.strip()
    if text.startswith("{"):
        try:
            wrapper = json.loads(text)
        except ValueError:
            wrapper = None
        if isinstance(wrapper, dict):
            message = wrapper.get("Message")
            text = message if isinstance(message, str) else ""
    match = _INTUNE_SUFFIX.search(text)
    if match is None:
        return ErrorText(text)
    return ErrorText(
        text[: match.start()].strip(), match.group("operation") or "", match.group("activity") or ""
    )


def required_permission(message: str) -> str:
    """The first permission a 403 message names: the only reason the client reads messages."""
    match = _PERMISSION.search(message)
    return match.group(0) if match else ""


def claims_challenge(headers: Mapping[str, str]) -> str:
    """The decoded claims JSON of a `WWW-Authenticate: Bearer … error="insufficient_claims"`."""
    params = dict(_AUTH_PARAM.findall(headers.get("WWW-Authenticate") or ""))
    if params.get("error") != "insufficient_claims" or not params.get("claims"):
        return ""
    raw = params["claims"]
    padded = raw + "=" * (-len(raw) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            text = decode(padded).decode("utf-8")
            json.loads(text)
            return text
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
    # Already JSON (some proxies pass it undecoded): MSAL wants the JSON text either way.
    return raw if raw.lstrip().startswith("{") else ""


def graph_error(
    *,
    status: int,
    headers: Mapping[str, str],
    body: Any,
    client_request_id: str,
    scopes: Sequence[str] = (),
    retry_after: float | None = None,
    fallback_request_id: str = "",
) -> GraphError:
    """The typed error for a Graph answer that was not a success. Branches on status, not text."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {"message": error} if isinstance(error, str) else {}
    inner = error.get("innerError") or error.get("innererror") or {}
    if not isinstance(inner, dict):
        inner = {}
    code = str(error.get("code") or "")
    text = error_text(str(error.get("message") or ""))
    message = text.message or _default_message(status, body)
    common: dict[str, Any] = {
        "status": status,
        "code": code,
        "request_id": headers.get("request-id")
        or str(inner.get("request-id") or "")
        or fallback_request_id,
        "client_request_id": headers.get("client-request-id")
        or str(inner.get("client-request-id") or "")
        or client_request_id,
        "target": str(error.get("target") or ""),
        "operation_id": text.operation_id,
        "activity_id": text.activity_id,
    }
    if status == 401:
        return GraphAuthError(
            message, scopes=list(scopes), claims_challenge=claims_challenge(headers), **common
        )
    if status == 403:
        return GraphPermissionError(
            message, required_permission=required_permission(message), **common
        )
    if status == 404:
        return GraphNotFound(message, **common)
    if status == 424:
        return GraphDependencyFailed(message, **common)
    if status == 429 or (status in (503, 504) and retry_after is not None):
        wait = retry_after if retry_after is not None else 0.0
        return GraphThrottled(_throttled_message(message, wait), retry_after=wait, **common)
    if status == 504:
        return GraphTimeout(message, **common)
    if status >= 500:
        return GraphUnavailable(message, **common)
    if 400 <= status < 500:
        return GraphBadRequest(message, **common)
    return GraphError(message, **common)


def _default_message(status: int, body: Any) -> str:
    text = body.strip()[:200] if isinstance(body, str) else ""
    return f"Graph answered HTTP {status}" + (f": {text}" if text else ".")


def _throttled_message(message: str, wait: float) -> str:
    seconds = max(1, round(wait))
    return f"{message} Graph is throttling requests: try again in {seconds} s."

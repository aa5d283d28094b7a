"""Deterministic fault injection for the sandbox's Graph, in the spirit of Microsoft Dev Proxy.

Rules come from the `SANDBOX_FAULTS` setting or environment variable (a JSON list), from the
control endpoint `/_sandbox/faults` (see `sandbox.fault_views`) and from `install()` in tests.
Each Graph request (and each inner `$batch` request) asks `intercept()` for an injected answer;
the first rule that matches and fires wins. A rule is a JSON object:

    {
      "method": "GET",            # an HTTP method or "*" (default "*")
      "path": "/beta/deviceManagement/exchangeConnectors*",
                                  # a glob on the Graph path (no query string); a pattern that
                                  # starts with "^" is a regular expression (re.search)
      "fault": "429",             # "429" | "500" | "503" | "504" | "delay" | "drop" | "malformed"
      "retry_after": 2,           # integer seconds: 429 (default 1; null omits it), 503, 504
      "seconds": 1.5,             # "delay" only: how long the answer is held back
      "times": 3,                 # fire on the next N matching requests only (default: no limit)
      "probability": 0.25,        # fire on this share of matching requests (default 1)
      "seed": 7,                  # the rule's own RNG seed, so a probability is repeatable
      "code": "…", "message": "…" # override the Graph error code/message of an error fault
    }

Faults: 429 `TooManyRequests`, 500 `generalException`, 503 `serviceNotAvailable` and 504
`gatewayTimeout` answer with the Graph error body (innerError with date and request ids) and a
`request-id` header. "malformed" is a 200 `application/json` answer whose body is not JSON.
"delay" holds the request back `seconds`, then serves it normally; in-process, a delay longer
than the caller's read timeout waits that timeout and the transport raises
`requests.ReadTimeout` (the request is not performed). "drop" closes the connection with no
answer: `requests.ConnectionError` in-process, a closed socket under `sandbox_serve`.
`SANDBOX_FAULTS='[{"path": "/beta/*", "fault": "503", "probability": 0.1, "seed": 1}]'`
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import json
import os
import random
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

from django.conf import settings
from django.http import HttpResponse

ERROR_FAULTS: dict[str, tuple[int, str, str]] = {
    "429": (429, "TooManyRequests", "Too many requests. Retry after the delay in Retry-After."),
    "500": (500, "generalException", "An unspecified error has occurred."),
    "503": (
        503,
        "serviceNotAvailable",
        "The service is temporarily unavailable for maintenance or is overloaded.",
    ),
    "504": (
        504,
        "gatewayTimeout",
        "The server did not receive a timely response from an upstream server.",
    ),
}
FAULTS = frozenset({*ERROR_FAULTS, "delay", "drop", "malformed"})
RULE_KEYS = frozenset(
    {
        "id",
        "method",
        "path",
        "fault",
        "retry_after",
        "seconds",
        "times",
        "probability",
        "seed",
        "code",
        "message",
    }
)
# What a server does with a request whose answer must never reach the client.
DROP = "drop"
TIMEOUT = "timeout"
MALFORMED_BODY = b'{"@odata.context": "https://graph.microsoft.com/beta/$metadata#", "value": [{"id'


class InvalidRule(ValueError):
    pass


@dataclass
class Rule:
    method: str
    path: str
    fault: str
    retry_after: int | None = None
    seconds: float = 0.0
    times: int | None = None
    probability: float = 1.0
    seed: int = 0
    code: str = ""
    message: str = ""
    id: int = 0
    hits: int = 0
    _random: random.Random = field(init=False, repr=False)
    _regex: re.Pattern[str] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._regex = re.compile(self.path) if self.path.startswith("^") else None

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else max(self.times - self.hits, 0)

    def matches(self, method: str, path: str) -> bool:
        if self.method != "*" and self.method != method.upper():
            return False
        if self._regex is not None:
            return self._regex.search(path) is not None
        return fnmatch.fnmatchcase(path, self.path)

    def fires(self) -> bool:
        """Whether this matching request gets the fault; counts it if so (call under the lock)."""
        if self.remaining == 0:
            return False
        # Draw for every matching request, so the sequence depends only on the seed and traffic.
        if self.probability < 1.0 and self._random.random() >= self.probability:
            return False
        self.hits += 1
        return True

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "fault": self.fault,
            "times": self.times,
            "probability": self.probability,
            "seed": self.seed,
            "hits": self.hits,
            "remaining": self.remaining,
        }
        if self.fault in ERROR_FAULTS:
            data["retry_after"] = self.retry_after
        if self.fault == "delay":
            data["seconds"] = self.seconds
        if self.code:
            data["code"] = self.code
        if self.message:
            data["message"] = self.message
        return data


def _number(
    data: dict[str, Any], key: str, kind: type, default: Any, nullable: bool = False
) -> Any:
    if key not in data:
        return default
    value = data[key]
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRule(f"'{key}' must be a number.")
    if kind is int and value != int(value):
        raise InvalidRule(f"'{key}' must be an integer.")
    return kind(value)


def parse_rule(data: Any) -> Rule:
    """A Rule from its JSON form; InvalidRule says what is wrong."""
    if not isinstance(data, dict):
        raise InvalidRule("A fault rule must be a JSON object.")
    unknown = set(data) - RULE_KEYS
    if unknown:
        raise InvalidRule(f"Unknown fault rule field(s): {', '.join(sorted(unknown))}.")
    fault = str(data.get("fault", ""))
    if fault not in FAULTS:
        raise InvalidRule(f"'fault' must be one of {', '.join(sorted(FAULTS))}.")
    path = data.get("path")
    if not isinstance(path, str) or not path:
        raise InvalidRule("'path' is required: a glob, or a regular expression starting with ^.")
    if path.startswith("^"):
        try:
            re.compile(path)
        except re.error as exc:
            raise InvalidRule(f"'path' is not a valid regular expression: {exc}.") from exc
    method = str(data.get("method", "*")).upper()
    default_retry_after = 1 if fault == "429" else None
    retry_after = _number(data, "retry_after", int, default_retry_after, nullable=True)
    if retry_after is not None and (retry_after < 0 or fault not in ERROR_FAULTS):
        raise InvalidRule("'retry_after' is a non-negative integer, for error faults only.")
    seconds = _number(data, "seconds", float, 0.0)
    if fault == "delay" and not seconds > 0:
        raise InvalidRule("A delay needs 'seconds' > 0.")
    times = _number(data, "times", int, None, nullable=True)
    if times is not None and times < 1:
        raise InvalidRule("'times' must be at least 1.")
    probability = _number(data, "probability", float, 1.0)
    if not 0.0 < probability <= 1.0:
        raise InvalidRule("'probability' must be in (0, 1].")
    return Rule(
        method=method,
        path=path,
        fault=fault,
        retry_after=retry_after,
        seconds=seconds,
        times=times,
        probability=probability,
        seed=_number(data, "seed", int, 0),
        code=str(data.get("code", "")),
        message=str(data.get("message", "")),
    )


def parse_rules(raw: str | list[Any]) -> list[Rule]:
    """Rules from a JSON list (or its text), e.g. the SANDBOX_FAULTS setting."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else []
        except json.JSONDecodeError as exc:
            raise InvalidRule(f"Fault rules are not valid JSON: {exc}.") from exc
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise InvalidRule("Fault rules must be a JSON list of rule objects.")
    return [parse_rule(item) for item in raw]


class Registry:
    """The installed rules, shared by every thread of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._next_id = 1
        self._configured_loaded = False

    def _load_configured(self) -> None:
        # Lazily, so settings are ready; once, so clear() also clears the configured rules. A
        # bad SANDBOX_FAULTS raises on every use rather than being skipped without a word.
        if self._configured_loaded:
            return
        raw = getattr(settings, "SANDBOX_FAULTS", None) or os.environ.get("SANDBOX_FAULTS", "")
        configured = parse_rules(raw)
        self._configured_loaded = True
        for rule in configured:
            self._add(rule)

    def _add(self, rule: Rule) -> Rule:
        rule.id = self._next_id
        self._next_id += 1
        self._rules.append(rule)
        return rule

    def install(self, *rules: Rule) -> list[Rule]:
        with self._lock:
            self._load_configured()
            return [self._add(rule) for rule in rules]

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            self._load_configured()
            before = len(self._rules)
            self._rules = [rule for rule in self._rules if rule.id != rule_id]
            return len(self._rules) < before

    def clear(self, *, reload_configured: bool = False) -> None:
        with self._lock:
            self._rules = []
            self._configured_loaded = not reload_configured
            self._load_configured()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            self._load_configured()
            return [rule.as_json() for rule in self._rules]

    def pick(self, method: str, path: str) -> Rule | None:
        """The rule that fires for this request, if any (its hit is counted)."""
        with self._lock:
            self._load_configured()
            for rule in self._rules:
                if rule.matches(method, path) and rule.fires():
                    return rule
        return None


REGISTRY = Registry()


@dataclass
class RequestScope:
    """What the server handling one client request needs to know about injected faults."""

    client_request_id: str = ""
    abort: str = ""


_scope: contextvars.ContextVar[RequestScope | None] = contextvars.ContextVar(
    "sandbox_fault_scope", default=None
)


@contextlib.contextmanager
def request_scope(*, client_request_id: str = "") -> Iterator[RequestScope]:
    """Wraps one client request: after it, `abort` says whether to drop or time it out.

    Inner $batch requests share their outer request's scope, so a drop or timeout injected
    into one of them aborts the whole HTTP exchange, as it would on the wire.
    """
    scope = RequestScope(client_request_id=client_request_id)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def install(*rules: dict[str, Any] | Rule) -> list[Rule]:
    """Install rules (JSON-shaped dicts or Rules) after the existing ones."""
    return REGISTRY.install(*(r if isinstance(r, Rule) else parse_rule(r) for r in rules))


def remove(rule_id: int) -> bool:
    return REGISTRY.remove(rule_id)


def clear() -> None:
    """Remove every rule, the configured (SANDBOX_FAULTS) ones included."""
    REGISTRY.clear()


def reload() -> list[dict[str, Any]]:
    """Remove every rule, then install SANDBOX_FAULTS again (e.g. after changing it)."""
    REGISTRY.clear(reload_configured=True)
    return REGISTRY.snapshot()


def rules() -> list[dict[str, Any]]:
    """The installed rules as JSON, with how often each has fired."""
    return REGISTRY.snapshot()


def graph_error(
    status: int,
    code: str,
    message: str,
    *,
    retry_after: int | None = None,
    client_request_id: str = "",
    target: str = "",
) -> HttpResponse:
    """A response shaped like Graph's errors (GRAPH.md §4); `target` names the field at fault."""
    request_id = str(uuid.uuid4())
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_request_id or request_id,
            },
        }
    }
    if target:
        body["error"]["target"] = target
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    _graph_headers(response, request_id, client_request_id)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _graph_headers(response: HttpResponse, request_id: str, client_request_id: str) -> None:
    response["request-id"] = request_id
    if client_request_id:
        response["client-request-id"] = client_request_id
    response["x-ms-ags-diagnostic"] = json.dumps(
        {"ServerInfo": {"DataCenter": "Sandbox", "Slice": "E", "Ring": "5", "ScaleUnit": "000"}}
    )
    response["Date"] = formatdate(usegmt=True)


def _marker(kind: str, scope: RequestScope | None, client_request_id: str) -> HttpResponse:
    """The answer for a request the client must never see answered.

    The transport or server acts on `scope.abort` (or on `response.sandbox_fault`); the status
    only shows if nothing does, e.g. a view called through Django's test client.
    """
    if scope is not None:
        scope.abort = kind
    status, code = (504, "gatewayTimeout") if kind == TIMEOUT else (502, "connectionDropped")
    response = graph_error(
        status,
        code,
        f"Sandbox fault: {kind} (the client should have seen no answer).",
        client_request_id=client_request_id,
    )
    response.sandbox_fault = kind  # type: ignore[attr-defined]
    return response


def _answer(rule: Rule, read_timeout: float | None) -> HttpResponse | None:
    scope = _scope.get()
    client_request_id = scope.client_request_id if scope else ""
    if rule.fault in ERROR_FAULTS:
        status, code, message = ERROR_FAULTS[rule.fault]
        return graph_error(
            status,
            rule.code or code,
            rule.message or message,
            retry_after=rule.retry_after,
            client_request_id=client_request_id,
        )
    if rule.fault == "malformed":
        response = HttpResponse(MALFORMED_BODY, status=200, content_type="application/json")
        _graph_headers(response, str(uuid.uuid4()), client_request_id)
        return response
    if rule.fault == "drop":
        return _marker(DROP, scope, client_request_id)
    if read_timeout is not None and rule.seconds > read_timeout:
        time.sleep(read_timeout)
        return _marker(TIMEOUT, scope, client_request_id)
    time.sleep(rule.seconds)
    return None


def intercept(method: str, path: str, read_timeout: float | None) -> HttpResponse | None:
    """The injected answer for this Graph request, or None to serve it normally.

    `read_timeout` is the caller's read timeout when known (in-process: request.META
    ["sandbox.read_timeout"]); over sockets it is None and a delay really sleeps.
    """
    rule = REGISTRY.pick(method, path)
    return None if rule is None else _answer(rule, read_timeout)

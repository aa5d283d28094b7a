"""The sandbox-only control endpoint for fault rules: GET, POST and DELETE /_sandbox/faults.

Every call (here and on the scenario controls, sandbox.scenario_views) needs
`Authorization: Bearer <fault token>`: the `SANDBOX_FAULTS_TOKEN` setting, or else a token this
process makes up at start (`sandbox_serve` prints it). No CSRF: a bearer token, never a cookie,
authorizes these calls.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox import faults

_PROCESS_TOKEN = secrets.token_urlsafe(32)
View = Callable[..., HttpResponse]


def faults_token() -> str:
    """The bearer token the fault endpoints require."""
    return getattr(settings, "SANDBOX_FAULTS_TOKEN", "") or _PROCESS_TOKEN


def bad_request(message: str, *, target: str = "") -> HttpResponse:
    return faults.graph_error(400, "BadRequest", message, target=target)


def _token_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The one guard of the sandbox's control endpoints (faults and scenarios)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            token.strip().encode(), faults_token().encode()
        ):
            response = faults.graph_error(
                401,
                "InvalidAuthenticationToken",
                "The fault endpoints need 'Authorization: Bearer <fault token>' (the token "
                "sandbox_serve prints, or the SANDBOX_FAULTS_TOKEN setting).",
            )
            response["WWW-Authenticate"] = 'Bearer realm="sandbox-faults"'
            return response
        return view(request, *args, **kwargs)

    return wrapped


def control_endpoint(*methods: str) -> Callable[[View], View]:
    """What every sandbox control endpoint wears (faults and scenarios): no sign-in, no CSRF
    and never cached, these methods only, the fault token required."""

    def decorate(view: View) -> View:
        guarded = require_http_methods(list(methods))(_token_required(view))
        return login_not_required(csrf_exempt(never_cache(guarded)))

    return decorate


@control_endpoint("GET", "POST", "DELETE")
def fault_rules(request: HttpRequest) -> HttpResponse:
    """GET lists the rules (with hits); POST adds one rule or a list; DELETE removes all."""
    if request.method == "GET":
        return JsonResponse({"value": faults.rules()})
    if request.method == "DELETE":
        faults.clear()
        return HttpResponse(status=204)
    try:
        installed = faults.install(*faults.parse_rules(request.body.decode("utf-8")))
    except (faults.InvalidRule, UnicodeDecodeError) as exc:
        return bad_request(str(exc))
    installed_ids = {rule.id for rule in installed}
    value = [rule for rule in faults.rules() if rule["id"] in installed_ids]
    return JsonResponse({"value": value}, status=201)


@control_endpoint("GET", "DELETE")
def fault_rule(request: HttpRequest, rule_id: int) -> HttpResponse:
    """One rule: GET shows it, DELETE removes it."""
    rule = next((item for item in faults.rules() if item["id"] == rule_id), None)
    if rule is None:
        return faults.graph_error(404, "ResourceNotFound", f"No fault rule {rule_id}.")
    if request.method == "DELETE":
        faults.remove(rule_id)
        return HttpResponse(status=204)
    return HttpResponse(json.dumps(rule), content_type="application/json")

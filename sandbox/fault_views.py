"""The sandbox-only control endpoint for fault rules: GET, POST and DELETE /_sandbox/faults."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox import faults


def _bad_request(message: str) -> HttpResponse:
    return faults.graph_error(400, "BadRequest", message)


@login_not_required
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST", "DELETE"])
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
        return _bad_request(str(exc))
    installed_ids = {rule.id for rule in installed}
    value = [rule for rule in faults.rules() if rule["id"] in installed_ids]
    return JsonResponse({"value": value}, status=201)


@login_not_required
@csrf_exempt
@never_cache
@require_http_methods(["GET", "DELETE"])
def fault_rule(request: HttpRequest, rule_id: int) -> HttpResponse:
    """One rule: GET shows it, DELETE removes it."""
    rule = next((item for item in faults.rules() if item["id"] == rule_id), None)
    if rule is None:
        return faults.graph_error(404, "ResourceNotFound", f"No fault rule {rule_id}.")
    if request.method == "DELETE":
        faults.remove(rule_id)
        return HttpResponse(status=204)
    return HttpResponse(json.dumps(rule), content_type="application/json")

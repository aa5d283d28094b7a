"""The sandbox-only control endpoint for scenarios (sandbox.scenarios), JSON in and out.

    GET    /_sandbox/scenarios               every scenario, states current
    POST   /_sandbox/scenarios               {"scenario": "group-down", "object": "<id>",
                                              "tenant"?: "<id or domain>", "at"?: "+10m",
                                              "recover_at"?: "…", "disconnected"?: false} → 201
    DELETE /_sandbox/scenarios               recover the open ones now, forget all → 204
    GET    /_sandbox/scenarios/<id>          one scenario
    POST   /_sandbox/scenarios/<id>/recover  {"at"?: "…"}: recover now, or at that time
    DELETE /_sandbox/scenarios/<id>          recover it now if open, forget it → 204

Guarded like the fault rules (the same bearer token: `fault_views.control_endpoint`). A bad
field answers 400 with Graph's error shape, its `target` naming the field.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from sandbox import faults, scenarios
from sandbox.fault_views import bad_request, control_endpoint
from sandbox.models import Scenario

FIELDS = {"scenario", "tenant", "object", "at", "recover_at", "disconnected"}


def _body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise scenarios.ScenarioError("body", f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(body, dict):
        raise scenarios.ScenarioError("body", "The body must be a JSON object.")
    return body


def _text(body: dict[str, Any], field: str, *, required: bool = False) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise scenarios.ScenarioError(field, f"'{field}' must be a non-empty string.")
    return value


def _request(body: dict[str, Any]) -> scenarios.Request:
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise scenarios.ScenarioError(
            unknown[0], f"Unknown scenario field(s): {', '.join(unknown)}."
        )
    disconnected = body.get("disconnected", False)
    if not isinstance(disconnected, bool):
        raise scenarios.ScenarioError("disconnected", "'disconnected' must be true or false.")
    return scenarios.Request(
        scenario=_text(body, "scenario", required=True) or "",
        object_id=_text(body, "object", required=True) or "",
        tenant=_text(body, "tenant") or "",
        at=_text(body, "at"),
        recover_at=_text(body, "recover_at"),
        disconnected=disconnected,
    )


def _refused(error: scenarios.ScenarioError) -> HttpResponse:
    return bad_request(str(error), target=error.field)


def _not_found(scenario_id: int) -> HttpResponse:
    return faults.graph_error(404, "ResourceNotFound", f"No scenario {scenario_id}.")


@control_endpoint("GET", "POST", "DELETE")
def scenario_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return JsonResponse({"value": [scenarios.as_json(s) for s in scenarios.listing()]})
    if request.method == "DELETE":
        scenarios.clear()
        return HttpResponse(status=204)
    try:
        scenario = scenarios.create(_request(_body(request)))
    except scenarios.ScenarioError as exc:
        return _refused(exc)
    return JsonResponse(scenarios.as_json(scenario), status=201)


@control_endpoint("GET", "DELETE")
def scenario_detail(request: HttpRequest, scenario_id: int) -> HttpResponse:
    scenarios.apply_due(tenant_id=None)
    scenario = Scenario.objects.filter(pk=scenario_id).first()
    if scenario is None:
        return _not_found(scenario_id)
    if request.method == "DELETE":
        if scenario.state in scenarios.OPEN_STATES:
            scenarios.recover(scenario.pk)
        scenario.delete()
        return HttpResponse(status=204)
    return JsonResponse(scenarios.as_json(scenario))


@control_endpoint("POST")
def scenario_recover(request: HttpRequest, scenario_id: int) -> HttpResponse:
    if not Scenario.objects.filter(pk=scenario_id).exists():
        return _not_found(scenario_id)
    try:
        body = _body(request)
        unknown = sorted(set(body) - {"at"})
        if unknown:
            raise scenarios.ScenarioError(unknown[0], "A recovery takes only 'at'.")
        scenario = scenarios.recover(scenario_id, at=_text(body, "at"))
    except scenarios.ScenarioError as exc:
        return _refused(exc)
    return JsonResponse(scenarios.as_json(scenario))

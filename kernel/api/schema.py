"""What the OpenAPI schema says beyond the views: authentication, enum names, error answers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class EntraBearerScheme(OpenApiAuthenticationExtension):
    target_class = "kernel.api.authentication.EntraBearerAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "An access token from the tenant for this dashboard's API: scope "
                f"api://{settings.ENTRA_CLIENT_ID}/access_as_user (the device code flow works "
                "for scripts)."
            ),
        }


ERROR_RESPONSES = {
    "400": "Invalid input: `extra.fields` names each bad field.",
    "401": "No or bad credentials (see the WWW-Authenticate header).",
    "403": "The dashboard role, or Graph (`extra.required_permission`), refuses this.",
    "404": "No such object.",
    "409": "The object changed in Graph meanwhile, or Graph refused the change as a conflict.",
    "502": "Graph failed or could not be reached (`extra.graph_request_id`).",
    "503": "Graph is throttling or unavailable; see Retry-After.",
    "504": "Graph did not answer in time; a write may or may not have been applied.",
}


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation documents the one error shape."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = {
        "type": "object",
        "required": ["message", "extra"],
        "properties": {
            "message": {"type": "string"},
            "extra": {"type": "object", "additionalProperties": True},
        },
    }
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(code, {"description": description, "content": error})
    return result


# The path parameter of every tenant-scoped operation: `/api/v1/tenants/{tenant}/…`.
TENANT_PARAMETER = "tenant"
TENANT_PREFIX = f"/api/v1/tenants/{{{TENANT_PARAMETER}}}/"
TENANT_DESCRIPTION = (
    "The tenant to act in: its id (a GUID) or a domain the dashboard knows, one of the managed "
    "tenants that `GET /api/v1/tenants/` lists (`apiRoot`). Graph is called in that tenant with "
    "the caller's own delegated token. A tenant the dashboard does not manage answers 404; one "
    "the dashboard may not open (`TENANT_ALLOW_LIST`) answers 403. The same operation without "
    "`/tenants/{tenant}` acts in the caller's home tenant."
)


def document_tenant_paths(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: each operation under `/api/v1/tenants/{tenant}/` is
    its home-tenant twin in a tenant (the same tags, its own operationId, the tenant described)."""
    paths = result.get("paths", {})
    for path, operations in paths.items():
        if not path.startswith(TENANT_PREFIX):
            continue
        twin = paths.get("/api/v1/" + path.removeprefix(TENANT_PREFIX), {})
        for method, operation in operations.items():
            home = twin.get(method, {})
            if "operationId" in home:
                operation["operationId"] = f"{home['operationId']}_in_tenant"
            if "tags" in home:
                operation["tags"] = home["tags"]
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("name") == TENANT_PARAMETER:
                    parameter["description"] = TENANT_DESCRIPTION
                    parameter["schema"] = {"type": "string", "minLength": 1, "maxLength": 253}
    return result

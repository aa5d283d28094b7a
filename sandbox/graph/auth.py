"""Bearer tokens and delegated permissions, checked the way Graph checks them."""

from __future__ import annotations

from typing import Any

from sandbox import tenants, tokens
from sandbox.graph.context import GraphRequest
from sandbox.graph.dialects import Dialect, permission_error
from sandbox.graph.responses import GraphError

# Graph's own challenge; never `insufficient_claims` here (that would mean a claims challenge).
WWW_AUTHENTICATE = 'Bearer realm="", client_id="00000003-0000-0000-c000-000000000000"'


def _unauthorized(message: str) -> GraphError:
    return GraphError(
        401,
        "InvalidAuthenticationToken",
        message,
        headers={"WWW-Authenticate": WWW_AUTHENTICATE},
    )


def authenticate(req: GraphRequest) -> dict[str, Any]:
    """The token's claims; 401 InvalidAuthenticationToken when missing, invalid or expired."""
    header = req.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header or not token.strip():
        raise _unauthorized("Access token is empty.")
    if scheme.lower() != "bearer":
        raise _unauthorized("Access token is missing or the scheme is not Bearer.")
    try:
        return tokens.validate_graph_token(token.strip())
    except tokens.InvalidToken as exc:
        raise _unauthorized(str(exc)) from exc


def granted_scopes(claims: dict[str, Any]) -> frozenset[str]:
    return frozenset(str(claims.get("scp", "")).split())


def require_any(claims: dict[str, Any], permissions: tuple[str, ...], dialect: Dialect) -> None:
    """403 in the service's dialect, naming first the permission the caller should ask for."""
    if not permissions or granted_scopes(claims) & set(permissions):
        return
    code, message = permission_error(dialect, permissions)
    raise GraphError(403, code, message)


# The Entra role a GDAP technician needs in a customer tenant, by the service behind a path.
ROLE_FOR_PATH = (
    ("devicemanagement/", tenants.INTUNE_ADMINISTRATOR, "Intune Administrator"),
    (
        "onpremisespublishingprofiles/",
        tenants.APPLICATION_ADMINISTRATOR,
        "Application Administrator",
    ),
)


def require_tenant_role(req: GraphRequest, dialect: Dialect) -> None:
    """In a customer tenant, a partner's technician acts only with the relationship's roles."""
    if "access" not in req.batch_facts:  # once per request, or per $batch for its requests
        tenant = tenants.lookup(str(req.claims.get("tid", "")))
        customer = tenant is not None and not tenant.is_partner
        req.batch_facts["access"] = (customer, tenants.access(tenant) if customer else None)
    customer, held = req.batch_facts["access"]
    if not customer:
        return
    for prefix, role, name in ROLE_FOR_PATH:
        if req.path.lower().startswith(prefix) and (held is None or role not in held.roles):
            code = "Forbidden" if dialect == Dialect.INTUNE else "Authorization_RequestDenied"
            raise GraphError(
                403,
                code,
                f"Insufficient privileges to complete the operation: the delegated admin "
                f"relationship with this tenant does not grant the {name} role.",
            )

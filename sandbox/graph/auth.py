"""Bearer tokens and delegated permissions, checked the way Graph checks them."""

from __future__ import annotations

from typing import Any

from sandbox import tokens
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

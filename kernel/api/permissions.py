"""The dashboard's roles as DRF permissions: the same roles as the pages."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from kernel.roles import Role


def role_at_least(minimum: Role) -> type[BasePermission]:
    class HasRole(BasePermission):
        message = f"This needs the {minimum.label} role."

        def has_permission(self, request: Any, view: Any) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.has_role(minimum))

    HasRole.__name__ = f"Has{minimum.label}Role"
    return HasRole


IsReader = role_at_least(Role.READER)
IsOperator = role_at_least(Role.OPERATOR)
IsAdmin = role_at_least(Role.ADMIN)

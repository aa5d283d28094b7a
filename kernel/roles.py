"""Dashboard roles (Entra app roles from the ID token's `roles` claim) and their decorator."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class Role(models.TextChoices):
    READER = "Dashboard.Reader", "Reader"
    OPERATOR = "Dashboard.Operator", "Operator"
    ADMIN = "Dashboard.Admin", "Admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, minimum: Role) -> bool:
        return self.rank >= minimum.rank


def role_from_claims(roles: Iterable[str]) -> Role:
    """The highest dashboard role among the token's roles, else the configured default."""
    granted = [Role(value) for value in roles if value in Role.values]
    if not granted:
        return Role(settings.DEFAULT_ROLE)
    return max(granted, key=lambda role: role.rank)


def role_required(
    minimum: Role,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Refuse (403) a signed-in user whose role is below `minimum`."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not Role(request.user.role).allows(minimum):
                return render(
                    request,
                    "dashboard/error.html",
                    {
                        "title": "Not allowed",
                        "message": (
                            f"This needs the {minimum.label} role; you are signed in as "
                            f"{Role(request.user.role).label}."
                        ),
                    },
                    status=403,
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator

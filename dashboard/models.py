"""The dashboard's user: one row per Entra object id (oid), refreshed at each sign-in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models

from kernel.roles import Role


class UserManager(BaseUserManager["User"]):
    def upsert_from_claims(self, claims: dict[str, Any], role: Role) -> User:
        user, _ = self.update_or_create(
            oid=claims["oid"],
            defaults={
                "tenant_id": claims.get("tid", ""),
                "upn": claims.get("preferred_username", ""),
                "display_name": claims.get("name", "") or claims.get("preferred_username", ""),
                "role": role,
            },
        )
        if user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user


class User(AbstractBaseUser):
    oid = models.CharField("object id", max_length=64, unique=True)
    tenant_id = models.CharField(max_length=64)
    upn = models.CharField("user principal name", max_length=255)
    display_name = models.CharField(max_length=255)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.READER)

    USERNAME_FIELD = "oid"
    objects = UserManager()

    def __str__(self) -> str:
        return self.display_name or self.upn

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    def has_role(self, minimum: Role) -> bool:
        return Role(self.role).allows(minimum)

"""Which sandbox tenant a request works in: the directory data of every tenant share one set of
tables, each row stamped with its tenant, and every read or write sees only the current one.

The sandbox's Graph sets the scope from the token's `tid` (Graph answers for the tenant the
token was issued for); the seed sets it per tenant it builds. Outside a scope it is the partner
(home) tenant, the one the demo users sign in to.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import models

_TENANT: ContextVar[str | None] = ContextVar("sandbox_tenant", default=None)


def home_tenant_id() -> str:
    return str(settings.ENTRA_TENANT_ID or settings.SANDBOX_TENANT_ID)


def current_tenant() -> str:
    return _TENANT.get() or home_tenant_id()


@contextmanager
def tenant_scope(tenant_id: str) -> Iterator[None]:
    token = _TENANT.set(tenant_id)
    try:
        yield
    finally:
        _TENANT.reset(token)


class TenantScopedManager(models.Manager):
    """The rows of the current tenant only (the default manager of every directory model)."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(tenant_id=current_tenant())

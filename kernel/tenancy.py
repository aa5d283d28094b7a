"""Which tenant a request works in: the one in its path (`/t/<tenant>/…`,
`/api/v1/tenants/<tenant>/…`), set on the request by the tenants app's middleware, else the
signed-in user's home tenant. Never a session-held "current tenant": two tabs, two tenants."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from django.http import HttpRequest

from kernel import identity


@dataclass(frozen=True)
class TenantRef:
    """A tenant as a request names it: its id, and what a person recognises it by."""

    id: str
    name: str = ""
    domain: str = ""

    @property
    def label(self) -> str:
        return self.name or self.domain or self.id


def tenant_path(tenant_id: str, rest: str = "") -> str:
    """A tenant's page URL: `/t/<tenant>/<rest>` (its URLconf resolves it)."""
    return f"/t/{quote(tenant_id, safe='')}/{rest.lstrip('/')}"


def request_tenant(request: HttpRequest) -> TenantRef | None:
    """The tenant in the request's path, or None (a page or API URL outside any tenant)."""
    tenant = getattr(request, "tenant", None)
    return tenant if isinstance(tenant, TenantRef) else None


def home_tenant_id(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    return str(getattr(user, "tenant_id", "") or identity.home_tenant_id())


def acting_tenant_id(request: HttpRequest) -> str:
    """The tenant a request reads and writes in: its path's, else the user's home tenant."""
    tenant = request_tenant(request)
    return tenant.id if tenant else home_tenant_id(request)

"""The partner and its customers: `sandbox_seed --tenants N` builds N customer tenants, each
with its own connectors, groups and audit events, and the partner's GDAP relationships.

The first three customers show every state the dashboard must handle: a ready one whose
relationship grants Intune Administrator only (no App Proxy), one whose relationship expires soon
and whose administrator has not consented to the application yet, and one whose relationship
expired. Further customers are ready, with both roles.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from sandbox import seed
from sandbox.models import DelegatedAdminRelationship, RelationshipStatus, Tenant
from sandbox.scope import tenant_scope
from sandbox.tenants import APPLICATION_ADMINISTRATOR, INTUNE_ADMINISTRATOR
from sandbox.tenants import home as home_tenant

DEFAULT_TENANTS = 3
BOTH_ROLES = (INTUNE_ADMINISTRATOR, APPLICATION_ADMINISTRATOR)


@dataclass(frozen=True)
class CustomerProfile:
    name: str
    domain: str
    status: str
    ends_in: timedelta  # negative: ended that long ago
    roles: tuple[str, ...] = BOTH_ROLES
    consented: bool = True


SHOWCASE = (
    CustomerProfile(
        "Fabrikam",
        "fabrikam.example",
        RelationshipStatus.ACTIVE,
        timedelta(days=540),
        roles=(INTUNE_ADMINISTRATOR,),
    ),
    CustomerProfile(
        "Northwind Traders",
        "northwind.example",
        RelationshipStatus.ACTIVE,
        timedelta(days=12),
        consented=False,
    ),
    CustomerProfile(
        "Woodgrove Bank", "woodgrove.example", RelationshipStatus.EXPIRED, timedelta(days=-20)
    ),
)


def customer_profile(index: int) -> CustomerProfile:
    if index < len(SHOWCASE):
        return SHOWCASE[index]
    number = f"{index + 1:03d}"
    return CustomerProfile(
        f"Customer {number}",
        f"customer{number}.example",
        RelationshipStatus.ACTIVE,
        timedelta(days=300 + index % 300),
    )


def customer_id(index: int) -> str:
    return str(uuid.uuid5(seed.NAMESPACE, f"tenant:{index}"))


def relationship_id(index: int) -> str:
    # Graph's relationship ids are two GUIDs joined by a hyphen.
    return f"{uuid.uuid5(seed.NAMESPACE, f'gdap:{index}')}-{customer_id(index)}"


@transaction.atomic
def customer_create(index: int) -> Tenant:
    """The customer tenant and its relationship with the partner (idempotent)."""
    profile = customer_profile(index)
    tenant, _ = Tenant.objects.update_or_create(
        id=customer_id(index),
        defaults={
            "display_name": profile.name,
            "default_domain": profile.domain,
            "app_consented": profile.consented,
        },
    )
    now = timezone.now()
    end = now + profile.ends_in
    DelegatedAdminRelationship.objects.update_or_create(
        id=relationship_id(index),
        defaults={
            "display_name": f"Connector support – {profile.name}"[:50],
            "status": profile.status,
            "customer": tenant,
            "role_ids": list(profile.roles),
            "duration": "P730D",
            "created_date_time": end - timedelta(days=730, hours=1),
            "activated_date_time": end - timedelta(days=730),
            "end_date_time": end,
        },
    )
    return tenant


@dataclass(frozen=True)
class EstateResult:
    home: seed.SeedResult
    customers: list[tuple[Tenant, seed.SeedResult]]


def estate_seed(
    *,
    tenants: int = DEFAULT_TENANTS,
    exchange: int = seed.DEFAULT_EXCHANGE,
    app_proxy: int = seed.DEFAULT_APP_PROXY,
    groups: int = seed.DEFAULT_GROUPS,
    audit_events: int = seed.DEFAULT_AUDIT_EVENTS,
    reset: bool = False,
) -> EstateResult:
    """The partner tenant and `tenants` customers, each with the same sizes of estate."""
    if reset:
        seed.tenant_reset()
        with transaction.atomic():
            DelegatedAdminRelationship.objects.all().delete()
            Tenant.objects.all().delete()
    sizes = {"exchange": exchange, "app_proxy": app_proxy, "groups": groups}
    home = seed.tenant_seed(**sizes, audit_events=audit_events)
    home_tenant()
    customers = []
    for index in range(tenants):
        customer = customer_create(index)
        with tenant_scope(customer.id):
            customers.append((customer, seed.tenant_seed(**sizes, audit_events=audit_events)))
    return EstateResult(home=home, customers=customers)

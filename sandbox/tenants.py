"""The partner tenant and its customers: who may get a token where, answered as Entra answers.

The demo users live in the partner (home) tenant. A customer tenant is reached through a GDAP
relationship: its demo technicians hold the relationship's roles there while it is active (or
expiring); an expired or terminated relationship, or none, means the user does not exist in
that tenant (AADSTS50020). A customer whose administrator has not consented to the application
answers AADSTS65001 until someone accepts the admin-consent page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Value, When
from django.http import JsonResponse

from sandbox.directory import DemoUser
from sandbox.models import DelegatedAdminRelationship, RelationshipStatus, Tenant
from sandbox.oauth import consent_required, oauth_error
from sandbox.scope import home_tenant_id

HOME_DOMAIN = "sandbox.example"
HOME_NAME = "Sandbox Partner"
# Aliases Entra accepts in place of a tenant in an authority.
MULTI_TENANT_ALIASES = frozenset({"common", "organizations"})
# A relationship in one of these states lets the partner's technicians in.
GRANTING = (RelationshipStatus.ACTIVE, RelationshipStatus.EXPIRING)
INTUNE_ADMINISTRATOR = "3a2c62db-5318-420d-8d74-23affee5d9d5"
APPLICATION_ADMINISTRATOR = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"


def home() -> Tenant:
    tenant, _ = Tenant.objects.get_or_create(
        id=home_tenant_id(),
        defaults={"display_name": HOME_NAME, "default_domain": HOME_DOMAIN, "is_partner": True},
    )
    return tenant


def lookup(segment: str) -> Tenant | None:
    """The tenant an authority's path segment names: its id, a domain, or `organizations`."""
    value = segment.strip().lower()
    if value in MULTI_TENANT_ALIASES or value in {home_tenant_id(), HOME_DOMAIN}:
        return home()
    return (
        Tenant.objects.filter(id=value).first()
        or Tenant.objects.filter(default_domain=value).first()
    )


def unknown_tenant(segment: str) -> JsonResponse:
    return oauth_error(
        "invalid_tenant",
        f"AADSTS90002: Tenant '{segment}' not found. Check to make sure you have the correct "
        "tenant ID and are signing into the correct cloud.",
    )


def relationship(tenant: Tenant) -> DelegatedAdminRelationship | None:
    """The customer's relationship that matters: a granting one first, then the latest."""
    rank = Case(
        When(status__in=GRANTING, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        DelegatedAdminRelationship.objects.filter(customer=tenant)
        .annotate(rank=rank)
        .order_by("rank", "-end_date_time")
        .first()
    )


@dataclass(frozen=True)
class Access:
    tenant: Tenant
    roles: frozenset[str]  # role template ids the user holds there (all, at home)


def access(tenant: Tenant) -> Access | None:
    """What a partner technician holds in `tenant`; None when the tenant does not know them."""
    if tenant.is_partner:
        return Access(tenant, frozenset({INTUNE_ADMINISTRATOR, APPLICATION_ADMINISTRATOR}))
    found = relationship(tenant)
    if found is None or found.status not in GRANTING:
        return None
    return Access(tenant, frozenset(found.role_ids))


def token_refusal(tenant: Tenant, user: DemoUser, client_id: str) -> JsonResponse | None:
    """Entra's answer when `user` may not have a token for `client_id` in `tenant`, else None."""
    if access(tenant) is None:
        return oauth_error(
            "invalid_grant",
            f"AADSTS50020: User account '{user.upn}' from identity provider "
            f"'https://sts.windows.net/{home_tenant_id()}/' does not exist in tenant "
            f"'{tenant.display_name}' and cannot access the application '{client_id}' in that "
            "tenant. The account needs to be added as an external user in the tenant first.",
        )
    if not tenant.app_consented:
        return consent_required(client_id)
    return None

"""Incremental consent in the sandbox's sign-in, the way Entra ID asks for it.

An administrator granted the dashboard's sign-in permissions for the whole tenant
(`TENANT_WIDE`); any other Graph permission (Directory.ReadWrite.All for the App Proxy pages)
each user consents to the first time the application asks for it. Until then the token endpoint
refuses to redeem a refresh token for it (AADSTS65001, `consent_required`), so the application
must send the user through the authorize page, which shows the consent screen.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from sandbox.directory import DemoUser
from sandbox.models import Consent
from sandbox.oauth import GRAPH_RESOURCE, OIDC_SCOPES, consent_required

TENANT_WIDE = frozenset(
    {
        "DeviceManagementServiceConfig.Read.All",
        "DeviceManagementServiceConfig.ReadWrite.All",
        "DeviceManagementConfiguration.ReadWrite.All",
        "DeviceManagementApps.Read.All",
        "DeviceManagementApps.ReadWrite.All",
        "User.Read",
        # The partner's administrator granted it: the dashboard reads the GDAP relationships.
        "DelegatedAdminRelationship.Read.All",
        "CrossTenantInformation.ReadBasic.All",
    }
)


def graph_permissions(scope: str) -> list[str]:
    """The Graph permissions a scope string asks for, in short form (no OIDC, no app APIs)."""
    return [
        item.removeprefix(GRAPH_RESOURCE)
        for item in scope.split()
        if item not in OIDC_SCOPES and not item.startswith("api://")
    ]


def missing(upn: str, client_id: str, permissions: Iterable[str]) -> list[str]:
    """The permissions the user has not consented to for this application yet."""
    wanted = [name for name in dict.fromkeys(permissions) if name not in TENANT_WIDE]
    granted = set(
        Consent.objects.filter(upn=upn, client_id=client_id, scope__in=wanted).values_list(
            "scope", flat=True
        )
    )
    return [name for name in wanted if name not in granted]


def grant(upn: str, client_id: str, permissions: Iterable[str]) -> None:
    for name in permissions:
        Consent.objects.get_or_create(upn=upn, client_id=client_id, scope=name)


def ask(
    request: HttpRequest, *, user: DemoUser, client_id: str, tenant: str
) -> HttpResponse | None:
    """The consent screen while the user has not accepted what the application asks for.

    None once accepted (the consent is recorded) or when nothing needs asking. `prompt=consent`
    shows the screen even when everything was granted before. Cancel on the screen is the
    authorize page's own Cancel: `access_denied` (AADSTS65004) back to the application.
    """
    requested = graph_permissions(request.GET.get("scope", ""))
    new = missing(user.upn, client_id, requested)
    if request.POST.get("consent") == "accept":
        grant(user.upn, client_id, new)
        return None
    if not new and request.GET.get("prompt") != "consent":
        return None
    return render(
        request,
        "sandbox/consent.html",
        {
            "user": user,
            "tenant": tenant,
            "client_id": client_id,
            "new": new,
            "granted": [name for name in requested if name not in new],
        },
    )


def refresh_refusal(upn: str, client_id: str, scope: str) -> JsonResponse | None:
    """Entra's answer to a refresh for a permission the user never consented to, else None."""
    if not missing(upn, client_id, graph_permissions(scope)):
        return None
    return consent_required(client_id)

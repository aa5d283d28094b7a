"""Tokens per tenant from one sign-in: one MSAL application per authority, the session's cache."""

from __future__ import annotations

import jwt
import pytest
from django.conf import settings
from django.test import Client

from kernel import identity
from tests.tenants.conftest import FABRIKAM, HOME, NORTHWIND, WOODGROVE

SCOPES = settings.GRAPH_SCOPES


def tid(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["tid"]


def test_one_application_per_authority_shared_by_every_request(technician: Client) -> None:
    session = technician.session
    assert tid(identity.acquire_token(session, SCOPES, tenant=FABRIKAM)) == FABRIKAM
    assert tid(identity.acquire_token(session, SCOPES)) == HOME
    apps = dict(identity._APPS)
    technician.get(f"/t/{FABRIKAM}/exchange-connectors/")
    technician.get(f"/t/{HOME}/exchange-connectors/")
    # The same objects, no more of them: none is built per request.
    assert len(identity._APPS) == 2
    assert all(identity._APPS[authority] is app for authority, app in apps.items())
    assert set(apps) == {settings.ENTRA_AUTHORITY, f"https://login.sandbox.localhost/{FABRIKAM}"}


def test_the_customer_token_comes_from_the_cache_once_redeemed(technician: Client) -> None:
    session = technician.session
    first = identity.acquire_token(session, SCOPES, tenant=FABRIKAM)
    session.save()
    assert identity.acquire_token(session, SCOPES, tenant=FABRIKAM) == first


@pytest.mark.parametrize(
    ("tenant", "reason", "code"),
    [
        (NORTHWIND, identity.TenantRefused.CONSENT_REQUIRED, "AADSTS65001"),
        (WOODGROVE, identity.TenantRefused.NO_ACCESS, "AADSTS50020"),
        ("nowhere.example", identity.TenantRefused.NOT_FOUND, "nowhere.example"),
    ],
)
def test_each_refusal_is_typed(technician: Client, tenant: str, reason: str, code: str) -> None:
    with pytest.raises(identity.TenantRefused) as refused:
        identity.acquire_token(technician.session, SCOPES, tenant=tenant)
    assert refused.value.reason == reason and code in refused.value.detail
    assert refused.value.tenant_id == tenant

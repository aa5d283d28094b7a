"""A partner with three customers in the sandbox, discovered by the dashboard."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from sandbox import estate
from tests.conftest import ADMIN, sign_in

FABRIKAM, NORTHWIND, WOODGROVE = (estate.customer_id(index) for index in range(3))
HOME = settings.ENTRA_TENANT_ID


@pytest.fixture
def partner(db: None) -> None:
    estate.estate_seed(tenants=3, exchange=3, app_proxy=2, groups=1, audit_events=2)


@pytest.fixture
def technician(partner: None) -> Client:
    """The partner's admin, signed in at home, with the GDAP customers discovered."""
    client = sign_in(Client(), ADMIN)
    response = client.post("/tenants/discover/")
    assert response.status_code == 302, response.content
    return client

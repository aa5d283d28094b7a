"""The OpenAPI schema documents every operation twice: as today (the caller's home tenant) and
under `/api/v1/tenants/{tenant}/`, with the tenant path parameter described."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import ADMIN

pytestmark = pytest.mark.django_db
TENANT = "/api/v1/tenants/{tenant}/"


@pytest.fixture
def schema(bearer_client) -> dict[str, Any]:
    response = bearer_client(ADMIN).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_every_tenant_scoped_operation_is_documented_under_its_tenant(schema) -> None:
    paths = schema["paths"]
    home = {p for p in paths if p.startswith("/api/v1/") and not p.startswith("/api/v1/tenants/")}
    scoped = {p for p in paths if p.startswith(TENANT)}
    assert len(home) >= 19 and {"/api/v1/" + p.removeprefix(TENANT) for p in scoped} == home
    assert "/api/v1/tenants/" in paths  # the tenants themselves: outside any tenant
    for path in scoped:
        twin = paths["/api/v1/" + path.removeprefix(TENANT)]
        assert set(paths[path]) == set(twin), path
        for method, operation in paths[path].items():
            assert operation["operationId"] == twin[method]["operationId"] + "_in_tenant"
            assert operation["tags"] == twin[method]["tags"]
            tenant = [p for p in operation["parameters"] if p["name"] == "tenant"]
            assert tenant and tenant[0]["in"] == "path" and tenant[0]["required"]
            assert "GET /api/v1/tenants/" in tenant[0]["description"]
            assert {"403", "404"} <= set(operation["responses"])


def test_operation_ids_are_unique(schema) -> None:
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_a_documented_tenant_path_answers_in_that_tenant(bearer_client, schema) -> None:
    client: Client = bearer_client(ADMIN)
    path = TENANT.replace("{tenant}", settings.ENTRA_TENANT_ID) + "exchange-connectors/"
    assert TENANT + "exchange-connectors/" in schema["paths"]
    assert client.get(path).status_code == 200
    unknown = client.get(TENANT.replace("{tenant}", "nowhere.example") + "exchange-connectors/")
    assert unknown.status_code == 404 and "not one of the tenants" in unknown.json()["message"]

"""Schemathesis against /api/schema/: generated calls to every operation over real HTTP.

No answer may be a 5xx that Graph did not cause, and every answer must match the schema (status,
content type, headers, body). SCHEMATHESIS_EXAMPLES sets the examples per operation (120 by
default: over 2,000 calls in all). The same operations under `/api/v1/tenants/{tenant}/` run the
same views, so they get SCHEMATHESIS_TENANT_EXAMPLES each (10 by default), in the caller's home
tenant named by its id: they check the routing and the schema's tenant paths, not the views again.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import device_code_token
from tests.conftest import ADMIN
from tests.sandbox import factories

pytestmark = [pytest.mark.django_db(transaction=True)]
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "120"))
TENANT_EXAMPLES = int(os.environ.get("SCHEMATHESIS_TENANT_EXAMPLES", "10"))
TENANT_SCOPED = "/api/v1/tenants/{tenant}/"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def admin_headers(live_server: Any, settings: Any) -> dict[str, str]:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 0
    for number in range(3):
        factories.exchange_connector(server_name=f"EXCH-FUZZ{number}.contoso.local")
    return {"Authorization": f"Bearer {device_code_token(ADMIN)}"}


def in_tenant(case: Any, tenant: str) -> Any:
    case.path_parameters["tenant"] = tenant
    return case


def fuzz(operation: Any, base_url: str, headers: dict[str, str], calls: dict[str, int]) -> None:
    """Generated calls to one operation, each answer checked against the schema."""
    strategy = operation.as_strategy()
    examples = EXAMPLES
    if operation.path.startswith(TENANT_SCOPED):
        strategy = strategy.map(lambda case: in_tenant(case, django_settings.ENTRA_TENANT_ID))
        examples = TENANT_EXAMPLES

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_within_schema(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers)
        calls[operation.label] = calls.get(operation.label, 0) + 1
        case.validate_response(response, checks=CHECKS)

    answers_within_schema()


def test_every_operation_answers_within_its_schema(
    live_server: Any, admin_headers: dict[str, str]
) -> None:
    schema = schemathesis.openapi.from_url(
        f"{live_server.url}/api/schema/?format=json", headers=admin_headers
    )
    calls: dict[str, int] = {}
    for result in schema.get_all_operations():
        fuzz(result.ok(), live_server.url, admin_headers, calls)
    scoped = sum(TENANT_SCOPED in label for label in calls)
    assert len(calls) >= 40 and scoped >= 19, calls  # every operation was exercised
    print(f"schemathesis: {sum(calls.values())} calls over {len(calls)} operations")
    expected = EXAMPLES * (len(calls) - scoped) + TENANT_EXAMPLES * scoped
    assert sum(calls.values()) >= expected * 0.9, calls

"""Schemathesis against /api/schema/: generated calls to every operation over real HTTP.

No answer may be a 5xx that Graph did not cause, and every answer must match the schema (status,
content type, headers, body). SCHEMATHESIS_EXAMPLES sets the examples per operation (120 by
default: over 2,000 calls in all).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
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


def fuzz(operation: Any, base_url: str, headers: dict[str, str], calls: dict[str, int]) -> None:
    """Generated calls to one operation, each answer checked against the schema."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
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
    assert len(calls) >= 20, calls  # every operation was exercised
    print(f"schemathesis: {sum(calls.values())} calls over {len(calls)} operations")
    assert sum(calls.values()) >= EXAMPLES * len(calls) * 0.9, calls

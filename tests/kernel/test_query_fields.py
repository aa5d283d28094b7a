"""Every query parameter a reader can type is validated: a field error, never a 500.

Pages answer 400 with the form showing the error (422 for htmx, which swaps 422s so the error
reaches the filters); the API answers 400 JSON naming the field.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.forms import Form
from django.test import Client

from tests.conftest import ADMIN, consent_to

pytestmark = pytest.mark.django_db

OUT_OF_RANGE_DATES = ["9999-12-31", "1999-12-31", "0001-01-01"]

PAGE_CASES = [
    *[("/audit/", "date_to", value) for value in OUT_OF_RANGE_DATES],
    *[("/audit/", "date_from", value) for value in OUT_OF_RANGE_DATES],
    ("/audit/", "date_from", "2026-13-45"),
    ("/audit/", "sort", "password"),
    ("/audit/", "outcome", "maybe"),
    ("/audit/", "format", "xml"),
    ("/audit/intune/", "date_to", "9999-12-31"),
    ("/audit/intune/", "date_from", "1999-12-31"),
    ("/audit/intune/", "page", "100001"),
    ("/audit/intune/", "category", "NoSuchCategory"),
    ("/audit/intune/", "next", "https://evil.example/beta/deviceManagement/auditEvents"),
    ("/exchange-connectors/", "page", "99999999999999999999999"),
    ("/exchange-connectors/", "page", "0"),
    ("/exchange-connectors/", "sort", "password"),
    ("/exchange-connectors/", "status", "maybe"),
    ("/exchange-connectors/", "type", "maybe"),
    ("/exchange-connectors/", "health", "maybe"),
    ("/app-proxy/connectors/", "page", "99999999999999999999999"),
    ("/app-proxy/connectors/", "sort", "password"),
    ("/app-proxy/connectors/", "status", "maybe"),
    ("/app-proxy/connectors/", "view", "maybe"),
]

API_CASES = [
    *[("/api/v1/audit/", "date_to", value) for value in OUT_OF_RANGE_DATES],
    ("/api/v1/audit/", "date_from", "9999-12-31"),
    ("/api/v1/audit/", "page", "0"),
    ("/api/v1/audit/", "page_size", "1000"),
    ("/api/v1/audit/", "sort", "password"),
    ("/api/v1/audit/", "outcome", "maybe"),
    ("/api/v1/audit/csv/", "date_to", "9999-12-31"),
    ("/api/v1/audit/csv/", "sort", "password"),
    ("/api/v1/intune-audit-events/", "date_to", "9999-12-31"),
    ("/api/v1/intune-audit-events/", "date_from", "1999-12-31"),
    ("/api/v1/intune-audit-events/", "category", "NoSuchCategory"),
    ("/api/v1/exchange-connectors/", "page", "99999999999999999999999"),
    ("/api/v1/exchange-connectors/", "page_size", "0"),
    ("/api/v1/exchange-connectors/", "sort", "password"),
    ("/api/v1/exchange-connectors/", "status", "maybe"),
    ("/api/v1/app-proxy/connectors/", "page", "99999999999999999999999"),
    ("/api/v1/app-proxy/connectors/", "sort", "password"),
    ("/api/v1/app-proxy/connectors/", "view", "maybe"),
]


@pytest.fixture
def reader(signed_in_client: Any) -> Client:
    consent_to(ADMIN, settings.APP_PROXY_GRAPH_SCOPES)
    return signed_in_client(ADMIN)


def form_errors(response: Any) -> dict[str, Any]:
    contexts = response.context if isinstance(response.context, list) else [response.context]
    forms = [
        value
        for context in contexts
        for value in context.flatten().values()
        if isinstance(value, Form)
    ]
    return {name: errors for form in forms for name, errors in form.errors.items()}


@pytest.mark.parametrize(("url", "field", "value"), PAGE_CASES)
def test_a_page_answers_a_bad_query_value_with_the_fields_error(
    reader: Client, url: str, field: str, value: str
) -> None:
    response = reader.get(url, {field: value})

    assert response.status_code == 400
    assert field in form_errors(response)
    for message in form_errors(response)[field]:
        assert message in response.content.decode().replace("&#x27;", "'")


@pytest.mark.parametrize(("url", "field", "value"), PAGE_CASES)
def test_under_htmx_the_field_error_is_a_422_htmx_swaps(
    reader: Client, url: str, field: str, value: str
) -> None:
    messages = form_errors(reader.get(url, {field: value}))[field]
    response = reader.get(url, {field: value}, headers={"HX-Request": "true"})

    assert response.status_code == 422
    for message in messages:
        assert message in response.content.decode().replace("&#x27;", "'")


@pytest.mark.parametrize(("url", "field", "value"), API_CASES)
def test_the_api_answers_a_bad_query_value_with_a_400_naming_the_field(
    reader: Client, url: str, field: str, value: str
) -> None:
    response = reader.get(url, {field: value})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json()["extra"]["fields"]


@pytest.mark.parametrize("value", ["100001", "99999999999999999999999", "0", "two", "-1"])
def test_the_audit_logs_own_paging_never_answers_a_500(reader: Client, value: str) -> None:
    """The audit log pages by number up to its first 10,000 actions, then by cursor
    (audit/paging.py): a page past the last is the last one on the page, a 404 or 400 on the
    API — never a 500."""
    assert reader.get("/audit/", {"page": value}).status_code == 200
    assert reader.get("/api/v1/audit/", {"page": value}).status_code in {400, 404}


def test_a_date_at_the_edge_of_the_range_is_accepted(reader: Client) -> None:
    assert (
        reader.get("/audit/", {"date_from": "2000-01-01", "date_to": "2099-12-31"}).status_code
        == 200
    )
    assert reader.get("/api/v1/audit/", {"date_to": "2099-12-31"}).status_code == 200

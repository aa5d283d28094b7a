"""Length limits on every free-text field: the form, the API and the sandbox's Graph agree
(issue 13, item 9)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django import forms
from django.test import Client
from django.utils import timezone

from audit.reasons import REASON_MAX_LENGTH
from connectors.forms import AppProxyConnectorForm, ConnectorGroupForm, ExchangeConnectorForm
from sandbox.graph.entities import APP_PROXY_CONNECTOR, CONNECTOR_GROUP, EXCHANGE_CONNECTOR
from tests.connectors.support import writes
from tests.connectors.test_exchange_changes import edit_url, open_form
from tests.sandbox import factories
from tests.sandbox.graph_support import APP_PROXY, EXCHANGE, assert_graph_error, caller

pytestmark = pytest.mark.django_db

PAIRS = [
    (ExchangeConnectorForm, EXCHANGE_CONNECTOR),
    (AppProxyConnectorForm, APP_PROXY_CONNECTOR),
    (ConnectorGroupForm, CONNECTOR_GROUP),
]


@pytest.mark.parametrize(("form_class", "entity"), PAIRS)
def test_every_free_text_field_has_the_limit_graph_has(form_class, entity) -> None:
    texts = {
        name: field
        for name, field in form_class.base_fields.items()
        if type(field) in {forms.CharField, forms.EmailField}
    }
    assert texts
    for name, field in texts.items():
        prop = entity.property(name)
        assert field.max_length is not None, name
        assert prop is not None and prop.max_length == field.max_length, name


@pytest.fixture
def connector():
    return factories.exchange_connector(
        server_name="EXCH-LONG.contoso.local", last_sync=timezone.now() - timedelta(hours=1)
    )


def test_a_10000_character_organization_is_a_field_error_and_nothing_is_sent(
    admin_client: Client, connector
) -> None:
    form = open_form(admin_client, connector)
    response = admin_client.post(
        edit_url(connector), {**form, "exchangeOrganization": "O" * 10_000}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Ensure this value has at most 255 characters (it has 10000)." in html
    assert writes() == []


def test_a_reason_over_the_limit_stays_on_the_review_step_and_says_why(
    admin_client: Client, connector
) -> None:
    form = open_form(admin_client, connector)
    changed = {**form, "exchangeOrganization": "Northwind"}
    response = admin_client.post(
        edit_url(connector), {**changed, "step": "save", "reason": "r" * (REASON_MAX_LENGTH + 1)}
    )
    html = response.content.decode()
    assert response.status_code == 400 and 'data-testid="review"' in html
    assert f"at most {REASON_MAX_LENGTH} characters" in html
    assert f'maxlength="{REASON_MAX_LENGTH}"' in html
    assert writes() == []


def test_the_api_refuses_a_long_value_with_the_field_named(admin_client: Client, connector) -> None:
    response = admin_client.patch(
        f"/api/v1/exchange-connectors/{connector.id}/update/",
        {"values": {"exchangeAlias": "a" * 65}, "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400
    fields = response.json()["extra"]["fields"]["values"]
    assert fields["exchangeAlias"] == ["Ensure this field has no more than 64 characters."]
    assert writes() == []


def test_the_sandbox_refuses_what_graph_refuses(graph_token: Callable[..., str], connector) -> None:
    admin = caller(graph_token)
    response = admin.patch(f"{EXCHANGE}/{connector.id}", json={"exchangeAlias": "a" * 65})
    body = assert_graph_error(response, 400, "BadRequest")
    assert "longer than 64 characters" in body["message"]
    group = admin.post(
        f"{APP_PROXY}/connectorGroups",
        json={"name": "g" * 129},
    )
    assert group.status_code == 400 and "longer than 128 characters" in group.text

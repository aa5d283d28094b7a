"""A GraphClient for the signed-in user of a Django session."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client

from graph.errors import GraphAuthError
from kernel.graph_clients import graph_client_for_session
from sandbox.models import ExchangeConnector, SigningKey
from tests.conftest import ADMIN
from tests.graph.conftest import EXCHANGE, graph_requests

pytestmark = pytest.mark.django_db


def test_the_signed_in_users_tokens_reach_graph(
    admin_client: Client, connector: ExchangeConnector
) -> None:
    graph = graph_client_for_session(admin_client.session)

    response = graph.get(EXCHANGE)

    assert [item["id"] for item in response.value] == [connector.id]


def test_a_session_without_a_user_asks_for_sign_in_with_the_scopes() -> None:
    graph = graph_client_for_session(Client().session, scopes=["Directory.ReadWrite.All"])

    with pytest.raises(GraphAuthError) as caught:
        graph.get(EXCHANGE)

    assert caught.value.scopes == ["Directory.ReadWrite.All"]
    assert caught.value.status is None
    assert graph_requests("/exchangeConnectors") == []


def test_a_token_graph_refuses_is_replaced_silently_once(
    admin_client: Client, connector: ExchangeConnector
) -> None:
    graph = graph_client_for_session(admin_client.session)
    graph.get(f"{EXCHANGE}/{connector.id}")
    # The tenant rolls its signing key: the cached token, still valid for MSAL, is now refused.
    SigningKey.objects.all().delete()

    response = graph.get(f"{EXCHANGE}/{connector.id}")

    assert response.body["id"] == connector.id
    statuses = [row.status for row in graph_requests(f"/exchangeConnectors/{connector.id}")]
    assert statuses == [200, 401, 200]


def test_a_user_whose_tokens_keep_being_refused_must_sign_in_again(
    signed_in_client: Callable[[str], Client], connector: ExchangeConnector, settings
) -> None:
    settings.SANDBOX_ACCESS_TOKEN_LIFETIME = 0  # every token Graph sees is already expired
    graph = graph_client_for_session(signed_in_client(ADMIN).session)

    with pytest.raises(GraphAuthError) as caught:
        graph.get(f"{EXCHANGE}/{connector.id}")

    assert caught.value.code == "InvalidAuthenticationToken"
    statuses = [row.status for row in graph_requests(f"/exchangeConnectors/{connector.id}")]
    assert statuses == [401, 401]


def test_default_scopes_are_the_dashboards(admin_client: Client) -> None:
    assert graph_client_for_session(admin_client.session).scopes == tuple(settings.GRAPH_SCOPES)

"""Paging through Graph collections with `@odata.nextLink`."""

from __future__ import annotations

import pytest
from django.utils import timezone

from graph.client import GraphClient
from sandbox.models import ExchangeConnector
from tests.graph.conftest import EXCHANGE, graph_requests

pytestmark = pytest.mark.django_db


def seed_exchange_connectors(count: int) -> set[str]:
    now = timezone.now()
    connectors = ExchangeConnector.objects.bulk_create(
        ExchangeConnector(
            server_name=f"EXCH{n:04}.contoso.local",
            primary_smtp_address=f"connector{n}@contoso.com",
            last_sync_date_time=now,
            created_at=now + timezone.timedelta(microseconds=n),
        )
        for n in range(count)
    )
    return {connector.id for connector in connectors}


def test_1050_connectors_come_back_in_11_pages_of_100(graph: GraphClient) -> None:
    ids = seed_exchange_connectors(1050)

    items = list(graph.iter_items(EXCHANGE, params={"$top": 100}))

    assert len(items) == 1050
    assert {item["id"] for item in items} == ids
    assert len(graph_requests("/exchangeConnectors")) == 11


def test_one_page_at_a_time_for_the_ui(graph: GraphClient) -> None:
    seed_exchange_connectors(250)

    first = graph.page(EXCHANGE, params={"$top": 100, "$select": "id,serverName"})
    second = graph.page(first.next_link)
    third = graph.page(second.next_link)

    assert [len(first.items), len(second.items), len(third.items)] == [100, 100, 50]
    assert first.next_link.startswith(graph.base_url)
    assert third.next_link is None
    assert set(first.items[0]) >= {"id", "serverName"}
    assert "primarySmtpAddress" not in first.items[0]
    assert not {i["id"] for i in first.items} & {i["id"] for i in second.items}


def test_an_empty_collection_is_one_empty_page(graph: GraphClient) -> None:
    page = graph.page(EXCHANGE)

    assert page.items == ()
    assert page.next_link is None
    assert list(graph.iter_items(EXCHANGE)) == []


def test_a_page_that_matches_nothing_ends_the_listing(graph: GraphClient) -> None:
    seed_exchange_connectors(5)

    items = list(graph.iter_items(EXCHANGE, params={"$filter": "status eq 'disconnected'"}))

    assert items == []


def test_count_matches_the_listing(graph: GraphClient) -> None:
    seed_exchange_connectors(42)

    response = graph.get(f"{EXCHANGE}/$count", headers={"ConsistencyLevel": "eventual"})
    assert str(response.body).strip() == "42"

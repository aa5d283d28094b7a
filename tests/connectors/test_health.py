"""Health is one function of status and last-sync age, shown alike everywhere (issue 13, 4)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from connectors.health import Health, health_for
from tests.sandbox import factories

NOW = timezone.now()


def badges(html: str) -> list[str]:
    """The health badges' texts on a page."""
    return [
        part.split(">", 1)[1].split("<", 1)[0] for part in html.split('data-testid="health"')[1:]
    ]


@pytest.mark.parametrize(
    ("status", "age", "expected"),
    [
        ("connected", timedelta(minutes=3), Health.HEALTHY),
        ("disconnected", timedelta(minutes=3), Health.UNHEALTHY),
        ("disconnected", None, Health.UNHEALTHY),
        ("connectionPending", timedelta(minutes=3), Health.WARNING),
        ("none", timedelta(hours=2), Health.WARNING),
        ("connected", timedelta(days=1, minutes=1), Health.WARNING),
        ("connected", timedelta(days=3), Health.UNHEALTHY),
        ("connectionPending", timedelta(days=5), Health.UNHEALTHY),
        ("connected", None, Health.NEVER_SYNCED),
    ],
)
def test_health_is_the_worse_of_status_and_last_sync_age(status, age, expected) -> None:
    last_sync = None if age is None else NOW - age
    assert health_for(status=status, last_sync=last_sync, now=NOW) == expected


@pytest.mark.django_db
def test_a_disconnected_connector_that_synced_minutes_ago_is_unhealthy_everywhere(
    admin_client: Client,
) -> None:
    connector = factories.exchange_connector(
        server_name="EXCH-DOWN.contoso.local",
        status="disconnected",
        last_sync=timezone.now() - timedelta(minutes=3),
    )
    listing = admin_client.get("/exchange-connectors/").content.decode()
    assert badges(listing) == ["Unhealthy"]

    detail = admin_client.get(f"/exchange-connectors/{connector.id}/").content.decode()
    assert badges(detail) == ["Unhealthy"]

    overview = admin_client.get("/").content.decode()
    assert "Unhealthy</span> 1" in overview and "Healthy</span> 0" in overview

    exported = admin_client.get("/exchange-connectors/", {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert [row["health"] for row in rows] == ["unhealthy"]

    api = admin_client.get("/api/v1/exchange-connectors/").json()
    assert [item["health"] for item in api["results"]] == ["unhealthy"]

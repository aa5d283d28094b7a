"""`manage.py sandbox_seed`: a realistic, repeatable, idempotent sandbox tenant."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from sandbox.models import (
    AppProxyConnector,
    AuditEvent,
    ConnectorGroup,
    ExchangeConnector,
    RequestLog,
)
from sandbox.tenant import exchange_connector_create

pytestmark = pytest.mark.django_db

EXCHANGE_STATUSES = {"none", "connectionPending", "connected", "disconnected"}
EXCHANGE_TYPES = {"onPremises", "hosted", "serviceToService", "dedicated"}
REGIONS = {"nam", "eur", "aus", "asia", "ind"}


def seed(*args: str) -> str:
    out = StringIO()
    call_command("sandbox_seed", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Everything a user would see of the tenant, except the times (they follow the clock)."""
    return {
        "exchange": list(
            ExchangeConnector.objects.order_by("id").values_list(
                "id",
                "server_name",
                "status",
                "exchange_connector_type",
                "version",
                "primary_smtp_address",
                "sync_broken",
            )
        ),
        "groups": list(
            ConnectorGroup.objects.order_by("id").values_list(
                "id", "name", "region", "connector_group_type", "is_default"
            )
        ),
        "app_proxy": list(
            AppProxyConnector.objects.order_by("id").values_list(
                "id", "machine_name", "external_ip", "status", "version", "group_id"
            )
        ),
        "audit": list(
            AuditEvent.objects.order_by("id").values_list("id", "activity", "category", "resources")
        ),
    }


def test_default_tenant_has_the_documented_sizes() -> None:
    output = seed()
    assert ExchangeConnector.objects.count() == 12
    assert AppProxyConnector.objects.count() == 9
    assert ConnectorGroup.objects.count() == 6
    assert AuditEvent.objects.count() == 150
    assert "Exchange connectors: 12 (12 new)" in output


def test_exchange_connectors_cover_every_status_and_type_and_one_is_broken() -> None:
    seed()
    connectors = list(ExchangeConnector.objects.all())
    assert {c.status for c in connectors} == EXCHANGE_STATUSES
    assert {c.exchange_connector_type for c in connectors} == EXCHANGE_TYPES
    assert [c.server_name for c in connectors if c.sync_broken] == ["EXCH-MBX05.contoso.local"]
    assert len({c.server_name for c in connectors}) == len(connectors)
    assert all(c.server_name.startswith("EXCH-") for c in connectors)
    assert all("@" in c.primary_smtp_address and c.exchange_alias for c in connectors)
    assert all(c.version.startswith("15.") for c in connectors)


def test_last_syncs_spread_from_fresh_to_stale_and_never() -> None:
    seed()
    now = timezone.now()
    ages = [
        now - c.last_sync_date_time
        for c in ExchangeConnector.objects.exclude(last_sync_date_time=None)
    ]
    assert any(age < timedelta(hours=1) for age in ages)
    assert any(timedelta(days=1) < age < timedelta(days=3) for age in ages)
    assert any(age >= timedelta(days=3) for age in ages)
    assert ExchangeConnector.objects.filter(last_sync_date_time=None).exists()


def test_app_proxy_groups_regions_and_membership() -> None:
    seed()
    groups = list(ConnectorGroup.objects.all())
    app_proxy = [g for g in groups if g.connector_group_type == "applicationProxy"]
    assert {g.region for g in app_proxy} == {*REGIONS, ""}
    assert [g.name for g in groups if g.is_default] == ["Default"]
    member_counts = {g.name: g.members.count() for g in app_proxy}
    assert 0 in member_counts.values()  # an empty group
    assert 1 in member_counts.values()  # a group with a single connector
    assert sum(1 for count in member_counts.values() if count >= 2) >= 2
    assert {g.connector_group_type for g in groups} == {"applicationProxy"}  # documented only
    assert any(not g.region for g in groups)  # a group with no region (null in Graph)
    connectors = list(AppProxyConnector.objects.all())
    assert {c.status for c in connectors} == {"active", "inactive"}
    assert {c.version for c in connectors} >= {"1.5.3437.0"}


def test_audit_events_span_thirty_days_with_intune_shape() -> None:
    seed()
    now = timezone.now()
    events = list(AuditEvent.objects.all())
    oldest = min(e.activity_date_time for e in events)
    newest = max(e.activity_date_time for e in events)
    assert now - oldest > timedelta(days=28)
    assert now - oldest <= timedelta(days=30)
    assert newest <= now
    assert now - newest < timedelta(days=1)
    assert len({e.category for e in events}) >= 4
    exchange_ids = set(ExchangeConnector.objects.values_list("id", flat=True))
    exchange_events = [
        e for e in events if e.resources[0]["type"] == "DeviceManagementExchangeConnector"
    ]
    assert exchange_events
    assert {e.resources[0]["resourceId"] for e in exchange_events} <= exchange_ids
    for event in events:
        assert event.actor["userPrincipalName"].endswith("@sandbox.example")
        assert event.activity_operation_type in {"Create", "Patch", "Delete", "Action"}


def test_running_twice_creates_nothing_new_and_keeps_edits() -> None:
    seed()
    first = snapshot()
    ExchangeConnector.objects.filter(server_name="EXCH-MBX01.contoso.local").update(
        exchange_alias="renamed-by-admin"
    )
    output = seed()
    assert "(0 new)" in output and "new)" in output
    assert ExchangeConnector.objects.get(server_name="EXCH-MBX01.contoso.local").exchange_alias == (
        "renamed-by-admin"
    )
    assert snapshot() == first


def test_reset_wipes_the_tenant_and_gives_the_same_tenant_again() -> None:
    seed()
    first = snapshot()
    exchange_connector_create(server_name="EXTRA.contoso.local")
    ExchangeConnector.objects.filter(server_name="EXCH-MBX02.corp.fabrikam.com").delete()
    RequestLog.objects.create(method="GET", path="/beta/x", status=200, request_id="r")
    seed("--reset")
    assert snapshot() == first
    assert not RequestLog.objects.exists()
    assert not ExchangeConnector.objects.filter(server_name="EXTRA.contoso.local").exists()


def test_a_deleted_seeded_connector_comes_back_without_reset() -> None:
    seed()
    ExchangeConnector.objects.filter(server_name="EXCH-MBX03.contoso.local").delete()
    output = seed()
    assert "Exchange connectors: 12 (1 new)" in output
    assert ExchangeConnector.objects.filter(server_name="EXCH-MBX03.contoso.local").exists()


def test_a_larger_tenant_keeps_the_smaller_one_as_its_start() -> None:
    seed("--exchange", "5")
    small = snapshot()["exchange"]
    seed("--exchange", "20")
    assert ExchangeConnector.objects.count() == 20
    assert set(small) <= set(snapshot()["exchange"])


def test_large_tenant_with_exactly_one_broken_connector() -> None:
    seed("--reset", "--exchange", "1050", "--app-proxy", "120", "--groups", "12")
    assert ExchangeConnector.objects.count() == 1050
    assert ExchangeConnector.objects.filter(sync_broken=True).count() == 1
    assert ExchangeConnector.objects.values("server_name").distinct().count() == 1050
    assert AppProxyConnector.objects.count() == 120
    # The single-connector and empty showcase groups keep their shape as the tenant grows.
    assert ConnectorGroup.objects.get(name="Sydney Branch").members.count() == 1
    assert ConnectorGroup.objects.get(name="India Dev").members.count() == 0
    assert ConnectorGroup.objects.filter(is_default=True).count() == 1


def test_zero_sizes_and_an_existing_default_group() -> None:
    ConnectorGroup.objects.create(name="Default", is_default=True, region="eur")
    seed("--exchange", "0", "--audit-events", "0", "--app-proxy", "3", "--groups", "2")
    assert not ExchangeConnector.objects.exists()
    assert not AuditEvent.objects.exists()
    assert ConnectorGroup.objects.filter(is_default=True).count() == 1
    assert ConnectorGroup.objects.count() == 2
    assert AppProxyConnector.objects.count() == 3


def test_negative_sizes_are_refused() -> None:
    with pytest.raises(CommandError):
        seed("--exchange", "-1")

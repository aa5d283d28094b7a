"""kernel.locks: one holder per name, across connections; a bounded wait; crashed holders."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry
from kernel.locks import LockTimeout, object_lock
from kernel.models import ObjectLock
from tests.connectors.support import writes
from tests.connectors.test_exchange_changes import open_form
from tests.sandbox import factories

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's"
)
lease_only = pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL uses advisory locks, not lease rows"
)


@lease_only
@pytest.mark.django_db
def test_a_held_lease_makes_another_holder_wait_then_give_up() -> None:
    with object_lock("thing:1", wait_seconds=1):
        started = time.monotonic()
        with pytest.raises(LockTimeout), object_lock("thing:1", wait_seconds=0.3):
            pass
        assert 0.25 <= time.monotonic() - started < 1
        with object_lock("thing:2", wait_seconds=0.3):  # another name is free
            pass
    with object_lock("thing:1", wait_seconds=0.3):  # released at the end of the block
        pass
    assert not ObjectLock.objects.exists()


@lease_only
@pytest.mark.django_db
def test_an_expired_lease_of_a_crashed_holder_is_taken_over() -> None:
    ObjectLock.objects.create(
        key="thing:1", owner="crashed", expires_at=timezone.now() - timedelta(seconds=1)
    )
    with object_lock("thing:1", wait_seconds=0.3):
        assert ObjectLock.objects.get().owner != "crashed"


@lease_only
@pytest.mark.django_db
def test_an_edit_waiting_past_its_deadline_for_another_save_sends_nothing(
    admin_client: Client, settings: Any
) -> None:
    connector = factories.exchange_connector(exchange_alias="before")
    form = open_form(admin_client, connector)
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 0.5
    with object_lock(f"exchangeConnector:{connector.id}", wait_seconds=1):
        response = admin_client.post(
            f"/exchange-connectors/{connector.id}/edit/",
            {**form, "exchangeAlias": "after", "step": "save"},
        )
    assert response.status_code == 504
    assert "Nothing was changed" in response.content.decode()
    assert writes() == [] and not AuditEntry.objects.exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_an_advisory_lock_holds_across_connections() -> None:
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with object_lock("thing:1", wait_seconds=1):
            held.set()
            release.wait(5)
        connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(5)
    with pytest.raises(LockTimeout), object_lock("thing:1", wait_seconds=0.3):
        pass
    release.set()
    thread.join()
    with object_lock("thing:1", wait_seconds=1):
        pass

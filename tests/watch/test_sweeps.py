"""Sweeps with a real worker against the sandbox: every watched tenant read in one read, its
snapshot stored and what it saw sent as observations; once per slot; spread; within budget."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from kernel.locks import object_lock
from sandbox.models import AppProxyConnector, ExchangeConnector
from sandbox.scope import tenant_scope
from tenants.models import ManagedTenant, TenantSnapshot
from tests.conftest import ADMIN
from tests.tenants.conftest import FABRIKAM, HOME, NORTHWIND, WOODGROVE
from tests.watch.conftest import Schedule, wait_for
from tests.watch.support import partner_signed_in
from watch import sweeps, tasks
from watch.budget import Limit, SweepBudget
from watch.models import RunStatus, Sweep, SweepStatus, TaskRun, WatchedTenant
from watch.observations import ObjectKind, SweepResult, sweep_observed

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def watching(transactional_db: None) -> Client:
    """The partner's admin: customers discovered, the watch turned on."""
    return partner_signed_in()


@pytest.fixture
def observed() -> Iterator[list[SweepResult]]:
    """What `sweep_observed` receivers get (the worker runs in this process)."""
    results: list[SweepResult] = []
    lock = threading.Lock()

    def receive(sender: object, result: SweepResult, **kwargs: Any) -> None:
        with lock:
            results.append(result)

    sweep_observed.connect(receive, dispatch_uid="test-sweeps")
    yield results
    sweep_observed.disconnect(dispatch_uid="test-sweeps")


def done(count: int) -> Callable[[], list[Sweep] | None]:
    def check() -> list[Sweep] | None:
        rows = list(Sweep.objects.filter(status=SweepStatus.DONE))
        return rows if len(rows) >= count else None

    return check


def by_tenant(results: list[SweepResult]) -> dict[str, SweepResult]:
    return {result.tenant_id: result for result in results}


def test_a_sweep_of_every_tenant_stores_snapshots_and_observations(
    watching: Client, observed: list[SweepResult], capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("watch_run", "sweep", "--wait", "30")

    assert capsys.readouterr().out.count("watch.sweep_tenant succeeded") == 4
    results = by_tenant(observed)
    assert set(results) == {HOME, FABRIKAM, NORTHWIND, WOODGROVE}
    home = results[HOME]
    with tenant_scope(HOME):
        exchange = {c.id: c for c in ExchangeConnector.objects.all()}
        proxies = {c.id: c.status for c in AppProxyConnector.objects.all()}
    kinds = Counter(o.kind for o in home.observations)
    assert kinds == {
        ObjectKind.TENANT: 1,
        ObjectKind.CREDENTIAL: 1,
        ObjectKind.EXCHANGE_CONNECTOR: len(exchange),
        ObjectKind.APP_PROXY_CONNECTOR: len(proxies),
        ObjectKind.CONNECTOR_GROUP: 1,
    }
    assert home.complete and home.read_kinds == set(ObjectKind) - {
        ObjectKind.SCHEDULED_SYNC,
        ObjectKind.DRIFT,
    }
    states = {o.object_id: o for o in home.observations}
    for connector_id, connector in exchange.items():
        assert states[connector_id].details["status"] == connector.status
    for connector_id, status in proxies.items():
        assert states[connector_id].state == ("active" if status == "active" else "inactive")
    (group,) = [o for o in home.observations if o.kind == ObjectKind.CONNECTOR_GROUP]
    active = sum(status == "active" for status in proxies.values())
    assert group.state == {0: "down", 1: "at_risk"}.get(active, "ok")
    assert group.details["active"] == active and set(group.details["members"]) == set(proxies)
    (credential,) = [o for o in home.observations if o.kind == ObjectKind.CREDENTIAL]
    assert (credential.state, credential.name, credential.tenant_id) == ("active", ADMIN, HOME)
    # The snapshot the all-tenants page shows comes from the same read.
    snapshot = TenantSnapshot.objects.get(tenant__tenant_id=HOME)
    assert (snapshot.exchange_total, snapshot.app_proxy_connectors) == (len(exchange), len(proxies))
    # Fabrikam's relationship reaches Intune only: Exchange read, App Proxy absent, not gone.
    fabrikam = results[FABRIKAM]
    assert not fabrikam.complete and "Application Administrator" in fabrikam.error
    assert ObjectKind.APP_PROXY_CONNECTOR not in fabrikam.read_kinds
    assert ObjectKind.EXCHANGE_CONNECTOR in fabrikam.read_kinds
    # A customer that refuses the admin is unreachable, each with the identity provider's word.
    for tenant, code in ((NORTHWIND, "AADSTS65001"), (WOODGROVE, "AADSTS50020")):
        result = results[tenant]
        (seen,) = [o for o in result.observations if o.kind == ObjectKind.TENANT]
        assert seen.state == "unreachable" and code in seen.details["error"]
        assert not result.complete and ObjectKind.EXCHANGE_CONNECTOR not in result.read_kinds
        assert not TenantSnapshot.objects.get(tenant__tenant_id=tenant).ok
        # Unreachable while watched: it stays watched (not ready any more).
        assert WatchedTenant.objects.get(tenant__tenant_id=tenant).enabled
    # Graph calls per sweep: the lists in one $batch, the group's members in another.
    row = Sweep.objects.get(tenant__tenant_id=HOME)
    assert (row.graph_calls, row.graph_requests) == (2, 4)
    assert row.observations == len(home.observations) and row.reachable and row.complete
    assert Sweep.objects.get(tenant__tenant_id=NORTHWIND).reachable is False
    assert {tenant.tenant_id for tenant in (w.tenant for w in sweeps.watched_tenants())} == {
        HOME,
        FABRIKAM,
        NORTHWIND,
        WOODGROVE,
    }


def test_the_same_sweep_sent_twice_is_swept_once_and_a_dead_worker_s_is_redone(
    watching: Client, observed: list[SweepResult]
) -> None:
    key = sweeps.slot_key(HOME, timezone.now())
    for _ in range(2):
        tasks.sweep_tenant.apply_async(args=[HOME], kwargs={"sweep_key": key})
    wait_for(done(1), what="the sweep")
    wait_for(lambda: Sweep.objects.get().attempts >= 1 and len(observed) == 1, what="one signal")
    tasks.sweep_tenant.apply_async(args=[HOME], kwargs={"sweep_key": key})
    wait_for(lambda: not Sweep.objects.filter(status=SweepStatus.RUNNING).exists(), what="settled")
    assert [r.sweep_key for r in observed] == [key]
    assert Sweep.objects.get().attempts == 1
    # A worker killed mid-sweep leaves its row running; the broker's redelivery redoes it under
    # the same key (receivers dedupe on it).
    Sweep.objects.update(status=SweepStatus.RUNNING, finished_at=None)
    tasks.sweep_tenant.apply_async(args=[HOME], kwargs={"sweep_key": key})
    wait_for(done(1), what="the redone sweep")
    assert [r.sweep_key for r in observed] == [key, key]
    assert Sweep.objects.get().attempts == 2


def test_sweeps_fall_at_each_tenant_s_own_time_spread_over_the_interval() -> None:
    ids = [f"00000000-0000-0000-0000-{index:012d}" for index in range(1000)]
    offsets = [sweeps.offset_seconds(tenant_id, 300) for tenant_id in ids]
    assert all(0 <= offset < 300 for offset in offsets)
    # The same each time (a hash of the id, not of the process).
    assert offsets == [sweeps.offset_seconds(tenant_id, 300) for tenant_id in ids]
    per_second = Counter(int(offset) for offset in offsets)
    assert max(per_second.values()) <= 12  # about 3.3 a second: never a thousand at once
    assert len(per_second) > 250
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    due = sweeps.next_due(ids[0], 300, at_or_after=now)
    assert now <= due < now + timedelta(seconds=300)
    assert sweeps.next_due(ids[0], 300, at_or_after=due) == due
    assert sweeps.next_due(ids[0], 300, at_or_after=due + timedelta(milliseconds=1)) == (
        due + timedelta(seconds=300)
    )


def test_beat_dispatches_each_slot_once(
    watching: Client, observed: list[SweepResult], settings: Any, beat: Callable[[Schedule], None]
) -> None:
    settings.WATCH_SWEEP_INTERVAL_SECONDS = 2
    settings.WATCH_SWEEP_DISPATCH_SECONDS = 1
    # Two dispatches of the same moment (a late beat, or two) send each slot once.
    now = timezone.now()
    first = sweeps.dispatch(now=now, send=tasks.sweep_tenant.apply_async)
    again = sweeps.dispatch(now=now, send=tasks.sweep_tenant.apply_async)
    assert first == {"sent": 4, "watched": 4} and again == {"sent": 0, "watched": 4}
    beat({"watch sweeps": {"task": "watch.dispatch_sweeps", "schedule": 1.0}})

    wait_for(
        lambda: Counter(r.tenant_id for r in observed)[HOME] >= 3,
        seconds=30,
        what="three sweeps of the home tenant",
    )
    keys = [result.sweep_key for result in observed]
    assert len(keys) == len(set(keys))  # no slot swept twice
    home = Sweep.objects.filter(tenant__tenant_id=HOME, status=SweepStatus.DONE)
    offset = sweeps.offset_seconds(HOME, 2)
    for row in home:
        assert (
            abs(
                (row.due_at.timestamp() - offset) / 2 - round((row.due_at.timestamp() - offset) / 2)
            )
            < 1e-3
        )
        assert row.lag_seconds is not None and row.lag_seconds < 10


def test_a_sweep_over_its_tenant_s_budget_is_deferred_not_sent(
    watching: Client, observed: list[SweepResult], settings: Any
) -> None:
    # Room for one sweep of the home tenant (4 requests) in any 4 seconds, and no waiting.
    settings.WATCH_TENANT_BUDGET_REQUESTS = 6
    settings.WATCH_TENANT_BUDGET_SECONDS = 4
    settings.WATCH_BUDGET_MAX_WAIT_SECONDS = 0
    first = tasks.sweep_tenant.apply_async(args=[HOME])
    wait_for(done(1), what="the first sweep")
    second = tasks.sweep_tenant.apply_async(args=[HOME])
    deferred = wait_for(
        lambda: Sweep.objects.filter(task_id=second.id, status=SweepStatus.DEFERRED).first(),
        what="the second sweep deferred",
    )
    assert "spent" in deferred.error and deferred.graph_requests <= 2
    wait_for(done(2), seconds=20, what="the deferred sweep, later")
    rows = {row.task_id: row for row in Sweep.objects.all()}
    assert rows[first.id].graph_requests == 4 and rows[second.id].attempts >= 2
    assert len(observed) == 2
    assert SweepBudget(HOME).limits[0].used() <= 6


def test_the_budget_holds_across_threads_in_any_window() -> None:
    limit = Limit("test:threads", requests=50, seconds=20)
    now = 1_000_000.0
    taken = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(40):
            wait, key = limit.try_take(1, now=now)
            if key:
                with lock:
                    taken.append(key)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 50  # 320 tried, exactly the limit let through
    # Sliding: 4 s later (next slice) the window still holds the 50; 25 s later it is free.
    assert limit.try_take(1, now=now + 4)[1] == ""
    assert limit.try_take(1, now=now + 25)[1] != ""


def test_lost_credentials_are_observed_and_leave_the_snapshots_alone(
    watching: Client, observed: list[SweepResult]
) -> None:
    from sandbox.models import RefreshToken

    RefreshToken.objects.update(revoked_at=timezone.now())
    call_command("watch_run", "check_credentials", "--here")  # as its schedule finds it
    call_command("watch_run", "sweep", "--tenant", HOME, "--here")

    # The credential check reports what it found too (watch.incidents): the sweep's own result.
    (result,) = [r for r in observed if r.sweep_key.startswith(f"{HOME}@")]
    (seen,) = result.observations
    assert (seen.kind, seen.state, seen.name) == (ObjectKind.CREDENTIAL, "needs_sign_in", ADMIN)
    assert result.read_kinds == {ObjectKind.CREDENTIAL} and not result.complete
    assert not TenantSnapshot.objects.filter(tenant__tenant_id=HOME).exists()


def test_watch_run_sweep_names_an_unknown_tenant(watching: Client) -> None:
    with pytest.raises(CommandError, match="No managed tenant 'nowhere.example'"):
        call_command("watch_run", "sweep", "--tenant", "nowhere.example")
    with pytest.raises(CommandError, match="--tenant goes with the sweep task only"):
        call_command("watch_run", "heartbeat", "--tenant", HOME)
    assert ManagedTenant.objects.count() == 4


def test_a_sweep_under_way_elsewhere_is_looked_at_again_later(
    watching: Client, observed: list[SweepResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweeps, "BUSY_RETRY_SECONDS", 1.0)
    key = sweeps.slot_key(HOME, timezone.now())
    with object_lock(f"watch.sweep:{key}", wait_seconds=1, hold_seconds=60):
        sent = tasks.sweep_tenant.apply_async(args=[HOME], kwargs={"sweep_key": key})
        wait_for(
            lambda: TaskRun.objects.filter(
                task_id=sent.id, status=RunStatus.RETRYING, error__contains="under way"
            ).exists(),
            what="the sweep finding its lock held, to try again (not failed)",
        )
        assert not observed
    wait_for(done(1), what="the sweep, once the lock is free")
    assert [r.sweep_key for r in observed] == [key]


def test_a_receiver_that_fails_fails_the_sweep_and_its_row_says_why(watching: Client) -> None:
    def broken(sender: object, result: SweepResult, **kwargs: Any) -> None:
        raise RuntimeError("the alerts' database is down")

    sweep_observed.connect(broken, dispatch_uid="test-broken-receiver")
    try:
        with pytest.raises(CommandError, match="the alerts' database is down"):
            call_command("watch_run", "sweep", "--tenant", HOME, "--here")
    finally:
        sweep_observed.disconnect(dispatch_uid="test-broken-receiver")
    row = Sweep.objects.get()
    assert row.status == SweepStatus.FAILED and "alerts' database is down" in row.error
    assert row.finished_at is not None  # not left "running" on the watch page

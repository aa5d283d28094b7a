"""Object history: a row per change only, a timeline and uptime per connector and group, its
pages under the tenant, and retention."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from sandbox.models import ExchangeConnector
from sandbox.scope import tenant_scope
from tests.conftest import READER, sign_in
from tests.tenants.conftest import HOME
from tests.watch.support import partner_signed_in
from watch import history, timelines
from watch.models import ObjectState, StateChange, Sweep, SweepStatus
from watch.observations import ObjectKind, Observation, SweepResult, sweep_observed

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TENANT = "11111111-1111-1111-1111-111111111111"
EVERYTHING = frozenset(
    {ObjectKind.EXCHANGE_CONNECTOR, ObjectKind.APP_PROXY_CONNECTOR, ObjectKind.CONNECTOR_GROUP}
)


def swept(
    key: str, at: datetime, states: dict[str, str], *, kinds: frozenset[str] = EVERYTHING
) -> SweepResult:
    """A sweep of TENANT that saw Exchange connectors in these states."""
    result = SweepResult(
        tenant_id=TENANT,
        sweep_key=key,
        observed_at=at,
        observations=[
            Observation(TENANT, ObjectKind.EXCHANGE_CONNECTOR, object_id, f"srv-{object_id}", state)
            for object_id, state in states.items()
        ],
        read_kinds=kinds,
    )
    sweep_observed.send(sender=Sweep, result=result)
    return result


def changes(object_id: str) -> list[tuple[str, str]]:
    return [
        (c.previous, c.state)
        for c in StateChange.objects.filter(object_id=object_id).order_by("at", "id")
    ]


@pytest.mark.django_db
def test_a_change_is_one_row_and_a_steady_state_none() -> None:
    for minute in range(10):
        swept(f"k{minute}", T0 + timedelta(minutes=5 * minute), {"a": "healthy", "b": "healthy"})
    swept("k10", T0 + timedelta(minutes=50), {"a": "unhealthy", "b": "healthy"})
    swept("k11", T0 + timedelta(minutes=55), {"a": "healthy", "b": "healthy"})

    assert changes("a") == [("", "healthy"), ("healthy", "unhealthy"), ("unhealthy", "healthy")]
    assert changes("b") == [("", "healthy")]  # twelve sweeps, one row
    a = ObjectState.objects.get(object_id="a")
    last = T0 + timedelta(minutes=55)
    assert (a.state, a.since, a.last_seen_at) == ("healthy", last, last)


@pytest.mark.django_db
def test_the_same_sweep_twice_and_a_late_sweep_change_nothing() -> None:
    swept("k1", T0, {"a": "healthy"})
    swept("k2", T0 + timedelta(minutes=5), {"a": "unhealthy"})
    swept("k2", T0 + timedelta(minutes=5), {"a": "unhealthy"})  # redone after a worker died
    swept("k0", T0 - timedelta(minutes=5), {"a": "healthy"})  # a deferred sweep, done late
    assert changes("a") == [("", "healthy"), ("healthy", "unhealthy")]
    assert ObjectState.objects.get(object_id="a").state == "unhealthy"


@pytest.mark.django_db
def test_an_object_no_longer_listed_is_gone_but_not_when_its_kind_was_not_read() -> None:
    swept("k1", T0, {"a": "healthy", "b": "healthy"})
    swept("k2", T0 + timedelta(minutes=5), {"a": "healthy"}, kinds=frozenset())
    assert ObjectState.objects.get(object_id="b").state == "healthy"  # not read: absent
    swept("k3", T0 + timedelta(minutes=10), {"a": "healthy"})
    assert changes("b") == [("", "healthy"), ("healthy", "gone")]
    swept("k4", T0 + timedelta(minutes=15), {"a": "healthy", "b": "warning"})
    assert changes("b")[-1] == ("gone", "warning")


@pytest.mark.django_db
def test_uptime_over_7_and_30_days_counts_only_known_time() -> None:
    now = T0 + timedelta(days=10)
    swept("k1", T0, {"a": "healthy"})  # first seen 10 days ago
    swept("k2", now - timedelta(days=3), {"a": "unhealthy"})
    swept("k3", now - timedelta(days=2), {"a": "warning"})  # a warning is still up
    swept("k4", now - timedelta(hours=1), {"a": "healthy"})

    found = timelines.object_history(TENANT, ObjectKind.EXCHANGE_CONNECTOR, "a", now=now)
    assert found is not None
    one, newest_first = found
    assert one.week.uptime == pytest.approx(6 / 7)
    assert one.month.uptime == pytest.approx(9 / 10)  # 20 days before it was seen: unknown
    assert one.month.uptime_percent == "90.00 %"
    tones = [(s.tone, round(s.seconds / 86400, 3)) for s in one.month.segments]
    assert tones == [
        ("tl-unknown", 20.0),
        ("tl-good", 7.0),
        ("tl-bad", 1.0),
        ("tl-warn", round(2 - 1 / 24, 3)),
        ("tl-good", round(1 / 24, 3)),
    ]
    assert sum(s.width for s in one.month.segments) == pytest.approx(1000, abs=0.1)
    assert [c.state for c in newest_first] == ["healthy", "warning", "unhealthy", "healthy"]
    # A week without a change: its state throughout (the older changes are not needed).
    quiet = timelines.object_history(
        TENANT, ObjectKind.EXCHANGE_CONNECTOR, "a", now=now + timedelta(days=8)
    )
    assert quiet is not None and quiet[0].week.uptime == 1.0


@pytest.mark.django_db
def test_prune_forgets_history_past_its_retention(settings) -> None:
    settings.WATCH_HISTORY_RETENTION_DAYS = 30
    swept("k1", T0, {"a": "healthy", "b": "healthy"})
    swept("k2", T0 + timedelta(days=1), {"a": "unhealthy"})  # b: gone
    swept("k3", T0 + timedelta(days=40), {"a": "healthy"})

    assert history.prune(now=T0 + timedelta(days=45)) == {"changes": 4, "objects": 1, "sweeps": 0}
    assert changes("a") == [("unhealthy", "healthy")]
    assert not ObjectState.objects.filter(object_id="b").exists()
    # The state before the oldest change kept is that change's `previous`.
    found = timelines.object_history(
        TENANT, ObjectKind.EXCHANGE_CONNECTOR, "a", now=T0 + timedelta(days=45)
    )
    assert found is not None and found[0].week.segments[0].state == "unhealthy"


@pytest.fixture
def swept_home(db: None) -> Client:
    """The home tenant swept once by the watch (in this process: `watch_run … --here`)."""
    client = partner_signed_in(customers=1)
    call_command("watch_run", "sweep", "--tenant", HOME, "--here")
    assert Sweep.objects.get().status == SweepStatus.DONE
    return client


def test_the_history_pages_show_each_object_its_uptime_and_a_chart(swept_home: Client) -> None:
    reader = sign_in(Client(), READER)
    page = reader.get(f"/t/{HOME}/watch/history/")
    assert page.status_code == 200
    html = page.content.decode()
    with tenant_scope(HOME):
        exchange = list(ExchangeConnector.objects.all())
    for connector in exchange:
        link = f'href="/t/{HOME}/watch/history/exchange_connector/{connector.id}/"'
        assert link in html
    assert (
        html.count('data-testid="timeline"') == ObjectState.objects.filter(tenant_id=HOME).count()
    )
    # CSP-safe: the charts are SVG with classes, never inline style or script.
    assert not re.search(r"<svg[^>]*style=|<rect[^>]*style=", html)
    assert "style=" not in html.split("<main", 1)[-1]

    connector = exchange[0]
    detail = reader.get(f"/t/{HOME}/watch/history/exchange_connector/{connector.id}/")
    assert detail.status_code == 200
    text = detail.content.decode()
    assert 'data-testid="uptime-7"' in text and "first seen" in text
    assert text.count('data-testid="timeline"') == 2
    if connector.last_sync_date_time:
        assert 'data-testid="since-sync"' in text


def test_a_connector_s_page_links_to_its_history(swept_home: Client) -> None:
    with tenant_scope(HOME):
        connector = ExchangeConnector.objects.first()
    assert connector is not None
    page = swept_home.get(f"/t/{HOME}/exchange-connectors/{connector.id}/").content.decode()
    href = f"/t/{HOME}/watch/history/exchange_connector/{connector.id}/"
    assert f'href="{href}"' in page
    assert swept_home.get(href).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["exchange_connector/no-such-id/", "tenant_of_nothing/x/"],
    ids=["unseen object", "unknown kind"],
)
def test_an_object_the_watch_never_saw_is_a_clear_404(swept_home: Client, path: str) -> None:
    response = swept_home.get(f"/t/{HOME}/watch/history/{path}")
    assert response.status_code == 404
    assert "The watch has not seen" in response.content.decode()


def test_watch_run_prunes_history(swept_home: Client, capsys: pytest.CaptureFixture[str]) -> None:
    Sweep.objects.update(due_at=timezone.now() - timedelta(days=3))
    call_command("watch_run", "prune_history", "--here")
    assert '"sweeps": 1' in capsys.readouterr().out
    assert not Sweep.objects.exists() and ObjectState.objects.exists()

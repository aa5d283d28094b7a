"""The watch page's sweeps: each watched tenant's last and next sweep and its lag; "Sweep all
now" for Operators and Admins, on a real worker."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.conftest import OPERATOR, READER, sign_in
from tests.tenants.conftest import FABRIKAM, HOME, NORTHWIND, WOODGROVE
from tests.watch.conftest import wait_for
from tests.watch.support import partner_signed_in, sign_in_for_watch
from watch import sweeps
from watch.models import Sweep, SweepStatus, TaskRun, WatchedTenant

pytestmark = pytest.mark.usefixtures("worker")
ALL = {HOME, FABRIKAM, NORTHWIND, WOODGROVE}


@pytest.fixture
def partner(transactional_db: None) -> Client:
    return partner_signed_in(watch=False)


def row_of(page: str, tenant: str) -> str:
    match = re.search(rf'<tr data-tenant="{tenant}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {tenant}"
    return match.group(1)


def test_the_page_shows_each_tenant_s_last_and_next_sweep_and_its_lag(partner: Client) -> None:
    page = partner.get("/watch/").content.decode()
    assert "— (the watch is off)" in row_of(page, HOME)  # off: nothing is due
    sign_in_for_watch(partner)
    call_command("watch_run", "sweep", "--tenant", HOME, "--here")
    Sweep.objects.update(started_at=timezone.now() - timedelta(seconds=10))
    Sweep.objects.update(due_at=timezone.now() - timedelta(seconds=12.5))

    page = partner.get("/watch/").content.decode()
    home = row_of(page, HOME)
    assert "Done" in home and "2.5 s" in home and "2 (4 requests)" in home
    assert f'href="/t/{HOME}/watch/history/"' in home
    due = sweeps.next_due(HOME, 300, at_or_after=timezone.now())
    assert due.strftime("%H:%M:") in home
    assert "none yet" in row_of(page, NORTHWIND)


def test_sweep_all_sweeps_every_watched_tenant_on_a_worker(partner: Client) -> None:
    sign_in_for_watch(partner)
    operator = sign_in(Client(), OPERATOR)
    response = operator.post("/watch/sweep/", follow=True)
    assert "Sweeping 4 tenants now" in response.content.decode()
    rows = wait_for(
        lambda: (
            list(Sweep.objects.filter(status=SweepStatus.DONE))
            if Sweep.objects.filter(status=SweepStatus.DONE).count() == 4
            else None
        ),
        seconds=30,
        what="four sweeps",
    )
    assert {row.tenant.tenant_id for row in rows} == ALL
    assert {row.trigger for row in rows} == {"run_now"}
    page = operator.get("/watch/").content.decode()
    assert "Unreachable" in row_of(page, WOODGROVE) and "Done" in row_of(page, HOME)


@pytest.mark.parametrize("settings_off", [False, True], ids=["reader", "watch off"])
def test_sweep_all_is_refused_to_readers_and_while_the_watch_is_off(
    partner: Client, settings_off: bool, settings: Any
) -> None:
    if settings_off:
        response = partner.post("/watch/sweep/", follow=True)
        assert response.status_code == 200
        assert "The watch is off" in response.content.decode()
    else:
        sign_in_for_watch(partner)
        response = sign_in(Client(), READER).post("/watch/sweep/")
        assert response.status_code == 403
    assert not Sweep.objects.exists()
    assert not TaskRun.objects.filter(task_name="watch.sweep_tenant").exists()
    assert partner.get("/watch/sweep/").status_code == 405


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("abc", "Enter a whole number of seconds"),
        ("1.5", "Enter a whole number of seconds"),
        ("59", "At least 60 seconds"),
        ("-5", "At least 60 seconds"),
        ("86401", "At most 86400 seconds"),
    ],
)
def test_a_bad_interval_is_named_kept_and_not_saved(
    partner: Client, value: str, error: str
) -> None:
    url = f"/t/{FABRIKAM}/watch/settings/"
    response = partner.post(url, {"enabled": "on", "interval_seconds": value})
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html and f'value="{value}"' in html
    htmx = partner.post(url, {"interval_seconds": value}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 422
    assert not WatchedTenant.objects.exists()


def test_an_admin_sets_a_tenant_s_interval_or_leaves_it_out(partner: Client) -> None:
    url = f"/t/{FABRIKAM}/watch/settings/"
    assert 'placeholder="300"' in partner.get(url).content.decode()
    response = partner.post(url, {"enabled": "on", "interval_seconds": "900"}, follow=True)
    assert (
        "sweeps" in response.content.decode() and "every 900 seconds" in response.content.decode()
    )
    intervals = {w.tenant.tenant_id: w.interval for w in sweeps.watched_tenants()}
    assert intervals[FABRIKAM] == 900 and intervals[HOME] == 300
    partner.post(url, {"interval_seconds": ""})  # unticked: left out
    assert FABRIKAM not in {w.tenant.tenant_id for w in sweeps.watched_tenants()}
    page = partner.get("/watch/").content.decode()
    assert f'href="/t/{FABRIKAM}/watch/settings/"' in page.split('data-testid="left-out"')[1]
    # A reader sees the settings and cannot change them.
    reader = sign_in(Client(), READER)
    assert "An Admin changes these." in reader.get(url).content.decode()
    assert reader.post(url, {"enabled": "on"}).status_code == 403
    assert not WatchedTenant.objects.get(tenant__tenant_id=FABRIKAM).enabled

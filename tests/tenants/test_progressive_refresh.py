"""The page's refresh in steps: each request reads a bounded chunk of tenants, and its answer
asks for the next step until every tenant is read; progress, failures, Stop, bad input."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from sandbox import estate
from tenants.models import ManagedTenant, TenantSnapshot
from tests.conftest import ADMIN, consent_to, sign_in
from tests.tenants.conftest import FABRIKAM, HOME, NORTHWIND, WOODGROVE

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "tenant-refresh"}
ORDER = sorted([HOME, FABRIKAM, NORTHWIND, WOODGROVE])


def next_step(html: str) -> dict[str, str] | None:
    """The values the answer's self-triggering form posts next (None: the chain has ended)."""
    match = re.search(r'<form hx-post="[^"]+" hx-trigger="load".*?</form>', html, re.S)
    if match is None:
        return None
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', match.group(0)))


@pytest.fixture
def stepwise(technician: Client, settings) -> Client:
    settings.TENANT_REFRESH_CONCURRENCY = 1
    settings.TENANT_REFRESH_CHUNK = 3
    consent_to(ADMIN, settings.APP_PROXY_GRAPH_SCOPES)
    return technician


def test_each_step_reads_one_chunk_and_asks_for_the_next(stepwise: Client) -> None:
    first = stepwise.post("/tenants/health/refresh/", **HTMX).content.decode()
    # The first three tenants in tenant id order, and only those.
    assert set(TenantSnapshot.objects.values_list("tenant__tenant_id", flat=True)) == set(ORDER[:3])
    assert "Refreshing… 3 of 4 tenants" in first
    assert next_step(first) == {"after": ORDER[2], "done": "3", "failed": str(first_failed(first))}
    assert 'data-testid="refresh-stop"' in first
    failures = re.findall(r'data-testid="refresh-failure"><strong>([^<]+)</strong>', first)
    assert 'hx-swap-oob="innerHTML:#refresh-failures"' in first  # a new refresh clears the list
    last = stepwise.post("/tenants/health/refresh/", next_step(first), **HTMX)
    html = last.content.decode()
    assert TenantSnapshot.objects.count() == 4
    assert next_step(html) is None and 'data-testid="refresh-stop"' not in html
    assert "Refreshed 4 of 4 tenants; <strong>2 failed</strong>." in html
    assert 'hx-swap-oob="beforeend:#refresh-failures"' in html
    failures += re.findall(r'data-testid="refresh-failure"><strong>([^<]+)</strong>', html)
    # Consent missing; not a member there.
    assert sorted(failures) == ["Northwind Traders", "Woodgrove Bank"]
    # The list reloads with the new figures.
    assert "tenants-refreshed" in json.loads(last["HX-Trigger"])


def first_failed(html: str) -> int:
    return len(re.findall(r'data-testid="refresh-failure"', html))


def test_stop_ends_the_chain_and_offers_to_continue(stepwise: Client) -> None:
    first = stepwise.post("/tenants/health/refresh/", **HTMX).content.decode()
    step = next_step(first)
    stopped = stepwise.post("/tenants/health/refresh/", {**step, "stop": "on"}, **HTMX)
    html = stopped.content.decode()
    assert TenantSnapshot.objects.count() == 3  # the stop read nothing more
    assert next_step(html) is None and "Stopped: refreshed 3 of 4 tenants" in html
    assert 'data-testid="refresh-continue"' in html and f'value="{ORDER[2]}"' in html
    assert "tenants-refreshed" in json.loads(stopped["HX-Trigger"])
    resumed = stepwise.post("/tenants/health/refresh/", step, **HTMX).content.decode()
    assert "Refreshed 4 of 4" in resumed and TenantSnapshot.objects.count() == 4


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"after": "not a tenant/../"}, "after", "Not a tenant id"),
        ({"done": "-1"}, "done", "greater than or equal to 0"),
        ({"done": "many"}, "done", "Enter a whole number"),
        ({"done": "1", "failed": "2"}, "failed", "More tenants failed than were refreshed"),
    ],
)
def test_bad_step_values_are_named_and_read_nothing(
    stepwise: Client, values: dict, field: str, message: str
) -> None:
    response = stepwise.post("/tenants/health/refresh/", values, **HTMX)
    assert response.status_code == 422
    error = re.search(r'data-testid="refresh-error">(.*?)</p>', response.content.decode()).group(1)
    assert f"{field}:" in error and message in error
    assert TenantSnapshot.objects.count() == 0
    plain = stepwise.post("/tenants/health/refresh/", values)
    assert plain.status_code == 400 and TenantSnapshot.objects.count() == 0


def test_a_pending_message_joins_the_answer_as_a_toast(stepwise: Client, settings) -> None:
    """The step's own event and the session's pending messages share one HX-Trigger."""
    settings.TENANT_REFRESH_CHUNK = 10
    stepwise.post("/tenants/add/", {"tenant": "bad value"})  # no message: a form error
    stepwise.post("/tenants/check/")  # leaves "Checked your access to every tenant."
    response = stepwise.post("/tenants/health/refresh/", **HTMX)
    trigger = json.loads(response["HX-Trigger"])
    assert "tenants-refreshed" in trigger
    assert any("Checked your access" in toast["message"] for toast in trigger["toasts"]["toasts"])


def test_a_plain_post_reads_one_step_and_says_how_far(stepwise: Client) -> None:
    response = stepwise.post("/tenants/health/refresh/", follow=True)
    assert TenantSnapshot.objects.count() == 3
    assert "Refreshed 3 of 4 tenants; 1 failed." in response.content.decode()


def test_a_step_with_hundreds_of_tenants_reads_only_its_chunk(stepwise: Client) -> None:
    ManagedTenant.objects.bulk_create(
        ManagedTenant(tenant_id=f"ffffffff-0000-4000-8000-{number:012d}", display_name=f"T{number}")
        for number in range(300)
    )
    html = stepwise.post("/tenants/health/refresh/", **HTMX).content.decode()
    assert TenantSnapshot.objects.count() == 3
    assert "Refreshing… 3 of 304 tenants" in html and next_step(html)["done"] == "3"


def test_readers_cannot_step_or_stop(partner: None) -> None:
    reader = sign_in(Client(), "reader@sandbox.example")
    assert reader.post("/tenants/health/refresh/", **HTMX).status_code == 403
    assert reader.post("/tenants/health/refresh/", {"stop": "on"}, **HTMX).status_code == 403


def test_the_page_offers_the_refresh_to_operators_only(stepwise: Client, partner: None) -> None:
    assert 'data-testid="refresh"' in stepwise.get("/tenants/health/").content.decode()
    reader = sign_in(Client(), "reader@sandbox.example")
    assert 'data-testid="refresh"' not in reader.get("/tenants/health/").content.decode()
    assert estate


def test_a_tenant_that_fails_keeps_its_last_figures(stepwise: Client, sandbox_faults) -> None:
    stepwise.post("/tenants/health/refresh/", **HTMX)  # the first step: three tenants
    before = {snap.tenant_id: snap for snap in TenantSnapshot.objects.filter(ok=True)}
    assert before  # some were read
    sandbox_faults.install({"path": "*/$batch", "fault": "malformed"})
    html = stepwise.post("/tenants/health/refresh/", **HTMX).content.decode()
    assert "3 failed" in html
    for tenant_id, was in before.items():
        now = TenantSnapshot.objects.get(tenant_id=tenant_id)
        assert not now.ok and now.error and now.taken_at > was.taken_at
        assert (now.exchange_total, now.groups_at_risk) == (was.exchange_total, was.groups_at_risk)


def test_a_step_starts_no_tenant_past_its_time_and_the_next_step_goes_on(
    stepwise: Client, settings
) -> None:
    """A slow Graph makes steps shorter, not late: past TENANT_REFRESH_STEP_SECONDS no tenant is
    started (each worker starts one, so every step gets on), and the next step reads the rest."""
    settings.TENANT_REFRESH_CHUNK = 10
    settings.TENANT_REFRESH_STEP_SECONDS = 0

    first = stepwise.post("/tenants/health/refresh/", **HTMX).content.decode()

    # One worker (concurrency 1), so one tenant: the first in tenant id order.
    assert list(TenantSnapshot.objects.values_list("tenant__tenant_id", flat=True)) == ORDER[:1]
    assert "Refreshing… 1 of 4 tenants" in first
    assert next_step(first)["after"] == ORDER[0]
    html, steps = first, 1
    while (step := next_step(html)) is not None:
        html = stepwise.post("/tenants/health/refresh/", step, **HTMX).content.decode()
        steps += 1
    assert steps == 4 and TenantSnapshot.objects.count() == 4
    assert "Refreshed 4 of 4 tenants" in html

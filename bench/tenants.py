"""Benchmark the all-tenants views: the health page from snapshots, and the fan-out refresh.

Run: `.venv/bin/python bench/tenants.py [--rounds 15] [--tenants 500] [--refresh-tenants 50]
[--latency 0.15]`. It starts `sandbox_serve` in its own process (seeded with `--refresh-tenants`
customer tenants of 50 Exchange connectors, 4 App Proxy connectors and 2 groups each; every
`$batch` held back `--latency` seconds by a "delay" fault rule, as a network and Graph would),
makes this process a dashboard with DEBUG off and a throw-away SQLite database in a temporary
DATA_DIR, signs admin@sandbox.example in through the real MSAL flow with Django's test client,
then measures:
  (a) the server time of `GET /tenants/health/`, and of the overview `GET /` (the same list for
      an admin of several tenants), with `--tenants` tenants whose stored snapshots
      each summarize 50 connectors, vs. the same page with 5 tenants: alternately, medians; the
      ratio (goal <= 2) is what 100 times the tenants costs a page that reads only snapshots;
  (b) the wall time of the page's refresh (`POST /tenants/health/refresh/` under htmx, step
      after step, `TENANT_REFRESH_CHUNK` tenants a step, as the page chains them) across the
      `--refresh-tenants` customers at the default concurrency, vs. one tenant's refresh x
      tenants / concurrency: the ratio (goal <= 1.3) is what the fan-out loses to its
      bookkeeping. Graph's stand-in answers from its own process, as Graph does from its own
      servers: its work is not done under the dashboard's interpreter lock (in one process, the
      two share it, and the refresh measures the sandbox's CPU as much as the dashboard's). The
      Graph calls counted are top-level requests in the sandbox's request log.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from sandbox_process import (
    SHOWCASE,
    Sandbox,
    configure_dashboard,
    dashboard_env,
    ready_customers_only,
    signed_in,
    start_sandbox,
)


def snapshots(count: int, prefix: str) -> list[str]:
    """`count` managed tenants with a stored snapshot of a 50-connector estate each."""
    import uuid

    from django.utils import timezone

    from tenants.models import ManagedTenant, TenantSnapshot, TenantSource

    ids = [str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{prefix}{n}.example")) for n in range(count)]
    tenants = ManagedTenant.objects.bulk_create(
        ManagedTenant(
            tenant_id=tenant_id,
            display_name=f"{prefix.title()} {n:03}",
            default_domain=f"{prefix}{n}.example",
            source=TenantSource.MANUAL,
        )
        for n, tenant_id in enumerate(ids)
    )
    TenantSnapshot.objects.bulk_create(
        TenantSnapshot(
            tenant=tenant,
            taken_at=timezone.now(),
            exchange_total=50,
            exchange_healthy=40 - n % 7,
            exchange_unhealthy=n % 5,
            exchange_stale=10 - n % 5 + n % 7 - n % 5,
            app_proxy_connectors=6,
            app_proxy_inactive=n % 3,
            groups_total=3,
            groups_at_risk=n % 2,
        )
        for n, tenant in enumerate(tenants)
    )
    return ids


def timed(call) -> float:  # noqa: ANN001 - a zero-argument callable
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def page_ratio(client, rounds: int, many: int) -> None:  # noqa: ANN001 - a test client
    from tenants.models import ManagedTenant

    ManagedTenant.objects.all().delete()
    few_ids = snapshots(5, "few")
    many_ids = snapshots(many - 5, "many") + few_ids
    for path, name in (("/tenants/health/", "all-tenants page"), ("/", "overview")):
        page_pair(client, rounds, path, f"{name} ({path})", len(many_ids))


def page_pair(client, rounds: int, path: str, name: str, many: int) -> None:  # noqa: ANN001
    def page(query: str) -> None:
        response = client.get(path, {"q": query})
        assert response.status_code == 200, response.status_code

    # The 5-tenant page is the same page filtered to 5 tenants: the same code, 100x fewer rows.
    few, lots = [], []
    for _ in range(rounds):
        few.append(timed(lambda: page("few")))
        lots.append(timed(lambda: page("")))
    few_ms, many_ms = statistics.median(few) * 1000, statistics.median(lots) * 1000
    print(f"(a) {name} from snapshots, {many} tenants x 50 connectors:")
    print(
        f"    {many_ms:.1f} ms vs 5 tenants {few_ms:.1f} ms: "
        f"ratio {many_ms / few_ms:.2f} (goal <= 2)"
    )


HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "tenant-refresh"}


def next_step(html: str) -> dict[str, str]:
    """The values the answer's self-triggering form posts next ({} once every tenant is read)."""
    import re

    match = re.search(r'<form hx-post="[^"]+" hx-trigger="load".*?</form>', html, re.S)
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', match.group(0))) if match else {}


def graph_calls_since(sandbox: Sandbox, last_id: int) -> int:
    """Top-level Graph requests the sandbox logged after `last_id` (a `$batch` POST is one)."""
    ((count,),) = sandbox.query(
        "SELECT count(*) FROM sandbox_requestlog WHERE id > ? AND batch_request_id = ''", last_id
    )
    return count


def last_logged(sandbox: Sandbox) -> int:
    ((last,),) = sandbox.query("SELECT coalesce(max(id), 0) FROM sandbox_requestlog")
    return last


def refresh_ratio(client, sandbox: Sandbox, tenants: int, latency: float) -> None:  # noqa: ANN001
    from django.conf import settings

    from tenants.models import ManagedTenant

    ManagedTenant.objects.all().delete()
    assert client.post("/tenants/discover/").status_code == 302
    all_ids = ready_customers_only()
    assert len(all_ids) == tenants, (len(all_ids), tenants)
    concurrency = settings.TENANT_REFRESH_CONCURRENCY

    def refresh() -> None:
        """The page's refresh: step after step (each answer names the next) until done."""
        step: dict[str, str] = {}
        while True:
            response = client.post("/tenants/health/refresh/", step, **HTMX)
            assert response.status_code == 200, response.status_code
            step = next_step(response.content.decode())
            if not step:
                return

    refresh()  # warm: every tenant's token once, as after a first refresh
    before = last_logged(sandbox)
    fanned = timed(refresh)
    calls = graph_calls_since(sandbox, before)
    ManagedTenant.objects.exclude(tenant_id=all_ids[0]).delete()
    single = statistics.median(timed(refresh) for _ in range(3))
    expected = single * tenants / concurrency
    print(
        f"(b) refresh of {tenants} tenants at concurrency {concurrency}, Graph latency {latency}s:"
    )
    print(
        f"    {fanned:.2f} s vs one tenant {single:.3f} s x {tenants} / {concurrency} = "
        f"{expected:.2f} s: ratio {fanned / expected:.2f} (goal <= 1.3)"
    )
    print(
        f"    Graph calls: {calls} for {tenants} tenants ({calls / tenants:.1f} per tenant: one "
        "$batch of the three lists, one of the groups' members)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tenants", type=int, default=500)
    parser.add_argument("--refresh-tenants", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        data = Path(tmp)
        (data / "sandbox").mkdir()
        (data / "dashboard").mkdir()
        seed = ["--tenants", str(args.refresh_tenants + SHOWCASE), "--exchange", "50"]
        seed += ["--app-proxy", "4", "--groups", "2", "--audit-events", "0"]
        latency = [{"path": "*/$batch", "fault": "delay", "seconds": args.latency}]
        sandbox = start_sandbox(
            data / "sandbox",
            stack,
            seed=seed,
            faults=latency if args.latency > 0 else [],
        )
        configure_dashboard(dashboard_env(data / "dashboard", sandbox))
        client = signed_in(sandbox)
        page_ratio(client, args.rounds, args.tenants)
        refresh_ratio(client, sandbox, args.refresh_tenants, args.latency)


if __name__ == "__main__":
    main()

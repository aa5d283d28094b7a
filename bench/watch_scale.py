"""Benchmark the watch's sweeps at scale: worker processes sweeping sandbox tenants over HTTPS.

Run: `.venv/bin/python bench/watch_scale.py [--tenants 500] [--small 100] [--exchange 45]
[--app-proxy 5] [--groups 2] [--workers 2] [--latency 0.1] [--redis-url redis://…]
[--database-url postgres://…] [--quick]`. In a throw-away temporary directory it:
  1. seeds the sandbox with `--tenants` customer tenants of `--exchange` + `--app-proxy`
     connectors (50 by default) and `--groups` groups each (`sandbox_seed`; the three showcase
     customers it always adds are left out of the watch) and starts `sandbox_serve` in its own
     process; every `$batch` is held back `--latency` seconds (a "delay" fault rule), as a
     network and Graph would;
  2. migrates a dashboard database (SQLite in the temporary directory, or `--database-url`),
     signs admin@sandbox.example in through the real flow, discovers the customers (GDAP) and
     turns the watch on (its own sign-in, offline access);
  3. for `--small` tenants and then for `--tenants` tenants, side by side in one run: starts
     `--workers` fresh `celery -A dashboard worker --pool solo` processes (as on as many hosts;
     the broker is Redis with `--redis-url`, else the filesystem transport), sends one sweep per
     tenant at once (`watch_run sweep`'s way, no spread) and waits for every sweep to be done,
     then reads each worker's peak resident memory (VmHWM in /proc) and stops them.
It prints, for both sizes: one full sweep's wall time (goal: within the 300 s interval), the
Graph calls per tenant (HTTP requests; a `$batch` POST is one) against the minimum of 2 (one
`$batch` of the three lists, one of the groups' members), each worker's peak RSS and the ratio
of the larger size's to the smaller's (goal <= 1.2), and the most requests any one tenant sent
in any 20 s window, from the sandbox's own request log, against the watch's budget
(WATCH_TENANT_BUDGET_REQUESTS) and Intune's limit (1,000 per 20 s per app per tenant).
`--quick` is a small run for the test suite (20 and 5 tenants of 10 connectors, no latency).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sandbox_process import (
    ADMIN,
    ROOT,
    SHOWCASE,
    Sandbox,
    configure_dashboard,
    dashboard_env,
    ready_customers_only,
    signed_in,
    start_sandbox,
    through_sandbox,
)
from throughput import stop

MINIMUM_CALLS = 2  # one $batch of the three lists, one of the groups' members
INTERVAL_SECONDS = 300
INTUNE_LIMIT = 1000  # requests per 20 s per app per tenant
WINDOW_SECONDS = 20


def watch_turned_on(sandbox: Sandbox, tenants: int) -> list[str]:
    """Sign in, discover the customers, sign in for the watch; the customers' tenant ids."""
    client = signed_in(sandbox)
    assert client.post("/tenants/discover/").status_code == 302
    start = client.post("/watch/sign-in/")
    assert start.status_code == 302, start.content[:500]
    through_sandbox(
        client, start["Location"], sandbox.ca_file, {"username": ADMIN, "consent": "accept"}
    )
    ids = ready_customers_only()
    assert len(ids) == tenants, (len(ids), tenants)
    return ids


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


@contextmanager
def workers(env: dict[str, str], count: int, data_dir: Path, label: str) -> Iterator[list[Worker]]:
    started = []
    for number in range(1, count + 1):
        log = data_dir / f"worker-{label}-{number}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "--pool", "solo"]
                + ["--hostname", f"bench{number}@%h", "--loglevel", "INFO"]
                + ["--without-gossip", "--without-mingle"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append(Worker(process, log))
    try:
        deadline = time.monotonic() + 120
        while not all(" ready." in w.log.read_text(errors="replace") for w in started):
            for w in started:
                if w.process.poll() is not None:
                    raise SystemExit(f"a worker exited:\n{w.log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                raise SystemExit("the workers did not start in time")
            time.sleep(0.2)
        yield started
    finally:
        for w in started:
            stop(w.process)


@dataclass(frozen=True)
class Figures:
    tenants: int
    wall_seconds: float
    calls_per_tenant: float
    max_calls: int
    failed: int
    peak_rss_mb: list[float]
    busiest_window: int


def sweep_all(tenant_ids: list[str]) -> float:
    """Send one sweep per tenant at once; the wall time until every one has finished."""
    from tenants.models import ManagedTenant
    from watch import sweeps, tasks
    from watch.models import Sweep, SweepStatus

    chosen = list(ManagedTenant.objects.filter(tenant_id__in=tenant_ids))
    began = time.perf_counter()
    task_ids = sweeps.send_now(chosen, send=tasks.sweep_tenant.apply_async)
    finished = (SweepStatus.DONE, SweepStatus.FAILED)
    give_up = began + 3 * INTERVAL_SECONDS
    while Sweep.objects.filter(task_id__in=task_ids, status__in=finished).count() < len(chosen):
        if time.perf_counter() > give_up:
            raise SystemExit(f"the sweeps did not finish within {3 * INTERVAL_SECONDS} s")
        time.sleep(0.25)
    return time.perf_counter() - began


def busiest_window(sandbox: Sandbox, tenant_ids: list[str], since: datetime) -> int:
    """The most Graph requests one tenant's token sent in any 20 s, from the sandbox's log
    (inner $batch requests count, as Graph counts them)."""
    rows = sandbox.query(
        "SELECT tenant_id, time FROM sandbox_requestlog WHERE time >= ? AND tenant_id != ''",
        since.strftime("%Y-%m-%d %H:%M:%S"),
    )
    times: dict[str, list[float]] = defaultdict(list)
    wanted = set(tenant_ids)
    for tenant_id, stamp in rows:
        if tenant_id in wanted:
            times[tenant_id].append(datetime.fromisoformat(stamp).timestamp())
    busiest = 0
    for stamps in times.values():
        stamps.sort()
        start = 0
        for end, at in enumerate(stamps):
            while at - stamps[start] >= WINDOW_SECONDS:
                start += 1
            busiest = max(busiest, end - start + 1)
    return busiest


def measure(
    env: dict[str, str], args: argparse.Namespace, data_dir: Path, sandbox: Sandbox, ids: list[str]
) -> Figures:
    from django.db.models import Max, Sum
    from django.utils import timezone

    from watch.models import Sweep, SweepStatus

    Sweep.objects.all().delete()
    since = timezone.now()
    with workers(env, args.workers, data_dir, str(len(ids))) as running:
        wall = sweep_all(ids)
        peaks = [w.peak_rss_mb() for w in running]
    done = Sweep.objects.filter(status=SweepStatus.DONE)
    totals = done.aggregate(calls=Sum("graph_calls"), most=Max("graph_calls"))
    return Figures(
        tenants=len(ids),
        wall_seconds=wall,
        calls_per_tenant=(totals["calls"] or 0) / max(1, done.count()),
        max_calls=totals["most"] or 0,
        failed=Sweep.objects.exclude(status=SweepStatus.DONE).count(),
        peak_rss_mb=peaks,
        busiest_window=busiest_window(sandbox, ids, since),
    )


def report(small: Figures, large: Figures, budget: int) -> None:
    for figures in (small, large):
        rss = ", ".join(f"{mb:.0f} MB" for mb in figures.peak_rss_mb)
        print(f"{figures.tenants} tenants:")
        print(
            f"    one full sweep: {figures.wall_seconds:.1f} s "
            f"(goal: within the {INTERVAL_SECONDS} s interval; "
            f"{figures.wall_seconds / figures.tenants * 1000:.0f} ms per tenant)"
        )
        print(
            f"    Graph calls per tenant: {figures.calls_per_tenant:.2f} (most {figures.max_calls})"
            f" vs the minimum {MINIMUM_CALLS}: ratio {figures.calls_per_tenant / MINIMUM_CALLS:.2f}"
        )
        print(f"    sweeps not done: {figures.failed}")
        print(f"    peak RSS per worker: {rss}")
        print(
            f"    busiest tenant: {figures.busiest_window} requests in {WINDOW_SECONDS} s "
            f"(budget {budget}, Intune's limit {INTUNE_LIMIT})"
        )
    ratio = max(large.peak_rss_mb) / max(small.peak_rss_mb)
    print(
        f"peak RSS, {large.tenants} vs {small.tenants} tenants: "
        f"{max(large.peak_rss_mb):.0f} vs {max(small.peak_rss_mb):.0f} MB, ratio {ratio:.2f} "
        "(goal <= 1.2)"
    )
    over = max(small.busiest_window, large.busiest_window) > budget
    print(f"no tenant over its throttling budget: {'NO' if over else 'yes'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=500)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--exchange", type=int, default=45)
    parser.add_argument("--app-proxy", type=int, default=5)
    parser.add_argument("--groups", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--quick", action="store_true", help="20 and 5 tenants of 10 connectors, no latency"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.tenants, args.small, args.exchange, args.app_proxy = 20, 5, 8, 2
        args.groups, args.latency = 1, 0.0
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        data = Path(tmp)
        (data / "sandbox").mkdir()
        (data / "dashboard").mkdir()
        began = time.perf_counter()
        seed = ["--tenants", str(args.tenants + SHOWCASE), "--exchange", str(args.exchange)]
        seed += ["--app-proxy", str(args.app_proxy), "--groups", str(args.groups)]
        seed += ["--audit-events", "0"]
        latency = [{"path": "*/$batch", "fault": "delay", "seconds": args.latency}]
        sandbox = start_sandbox(
            data / "sandbox", stack, seed=seed, faults=latency if args.latency > 0 else []
        )
        env = dashboard_env(
            data / "dashboard",
            sandbox,
            database_url=args.database_url,
            redis_url=args.redis_url,
        )
        configure_dashboard(env)
        from django.conf import settings

        ids = watch_turned_on(sandbox, args.tenants)
        print(
            f"{args.tenants} tenants x {args.exchange + args.app_proxy} connectors seeded, "
            f"sandbox_serve up, the watch on ({time.perf_counter() - began:.0f} s); "
            f"{args.workers} worker processes, broker "
            f"{'Redis' if args.redis_url else 'filesystem'}, database "
            f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[1]}, "
            f"Graph latency {args.latency} s per $batch",
            flush=True,
        )
        small = measure(env, args, data / "dashboard", sandbox, ids[: args.small])
        large = measure(env, args, data / "dashboard", sandbox, ids)
        report(small, large, settings.WATCH_TENANT_BUDGET_REQUESTS)


if __name__ == "__main__":
    main()

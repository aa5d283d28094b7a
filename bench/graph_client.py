"""Benchmark the Graph client over `sandbox_serve`: paging overhead and `$batch` round trips.

Run: `.venv/bin/python bench/graph_client.py [--repeat 5] [--top 100]`. It builds a throw-away
SQLite tenant in a temporary DATA_DIR, seeds 5,000 Exchange connectors, starts `manage.py
sandbox_serve` in a child process (real HTTPS on loopback), and compares wall times:
  1. listing every connector through GraphClient vs. the same pages fetched with the plain
     outbound session (same page size, same connection pool): the client's overhead;
  2. syncing 200 connectors through `$batch` vs. one POST each: round trips and wall time.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXCHANGE = "/deviceManagement/exchangeConnectors"
CONNECTORS = 5_000
SYNCED = 200


@dataclass(frozen=True)
class Row:
    scenario: str
    round_trips: int
    seconds: float
    cpu_seconds: float
    ratio: str = ""


def configure_django(data_dir: Path) -> None:
    # A private tenant: never the developer's database, cache or real Entra settings.
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "ENTRA_CLIENT_ID",
        "GRAPH_BASE_URL",
        "SANDBOX_FAULTS",
    ):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "0",
            "SANDBOX_MODE": "1",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(count: int) -> list[str]:
    from django.core.management import call_command
    from django.utils import timezone

    from sandbox.models import ExchangeConnector

    call_command("migrate", verbosity=0)
    now = timezone.now()
    connectors = ExchangeConnector.objects.bulk_create(
        (
            ExchangeConnector(
                server_name=f"EXCH{n:05}.contoso.local",
                primary_smtp_address=f"connector{n}@contoso.com",
                exchange_alias="IntuneConnector",
                exchange_organization="Contoso",
                version="16.0.1234.5",
                last_sync_date_time=now,
                created_at=now + timezone.timedelta(microseconds=n),
            )
            for n in range(count)
        ),
        batch_size=1000,
    )
    return [connector.id for connector in connectors]


def access_token() -> str:
    from django.conf import settings

    from sandbox.directory import ALL_SCOPES, DEMO_USERS
    from sandbox.tokens import graph_access_token

    return graph_access_token(
        user=DEMO_USERS[0],
        tenant_id=settings.ENTRA_TENANT_ID,
        client_id=settings.ENTRA_CLIENT_ID,
        scopes=sorted(ALL_SCOPES),
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(port: int) -> tuple[subprocess.Popen[str], str, str]:
    """`sandbox_serve` in a child process; returns it, the Graph base URL and the CA file."""
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "sandbox_serve", "--port", str(port), "--quiet"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        text=True,
    )
    graph_base_url = ca_file = ""
    assert child.stdout is not None
    deadline = time.monotonic() + 60
    while not (graph_base_url and ca_file) and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line and child.poll() is not None:
            raise SystemExit(f"sandbox_serve exited with {child.returncode}")
        label, _, value = line.strip().partition(":  ")
        if label == "Graph base URL":
            graph_base_url = value.strip()
        elif label == "CA to trust":
            ca_file = value.strip()
    if not (graph_base_url and ca_file):
        child.terminate()
        raise SystemExit("sandbox_serve did not print its Graph base URL and CA in time.")
    return child, graph_base_url, ca_file


def top_level_requests_since(last_id: int) -> int:
    from sandbox.models import RequestLog

    return RequestLog.objects.filter(id__gt=last_id, batch_request_id="").count()


def last_request_id() -> int:
    from sandbox.models import RequestLog

    return RequestLog.objects.order_by("-id").values_list("id", flat=True).first() or 0


@dataclass(frozen=True)
class Measured:
    seconds: float  # median wall time
    cpu_seconds: float  # median CPU time of this (client) process: the server runs in another
    round_trips: int  # top-level HTTP requests of one run, from the sandbox's request log


def compare(
    baseline: Callable[[], int], candidate: Callable[[], int], repeat: int
) -> tuple[Measured, Measured]:
    """Runs the two alternately (ABBA…), so a server that slows down over time favours neither."""
    times: dict[int, list[float]] = {0: [], 1: []}
    cpu: dict[int, list[float]] = {0: [], 1: []}
    trips = {0: 0, 1: 0}
    for run in range(repeat):
        order = (0, 1) if run % 2 == 0 else (1, 0)
        for which in order:
            before = last_request_id()
            started, cpu_started = time.perf_counter(), time.process_time()
            (baseline, candidate)[which]()
            times[which].append(time.perf_counter() - started)
            cpu[which].append(time.process_time() - cpu_started)
            trips[which] = top_level_requests_since(before)
    return (
        Measured(statistics.median(times[0]), statistics.median(cpu[0]), trips[0]),
        Measured(statistics.median(times[1]), statistics.median(cpu[1]), trips[1]),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=4, help="runs per variant (median)")
    parser.add_argument("--top", type=int, default=100, help="page size ($top) for listing")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="graph-bench-") as data_dir:
        configure_django(Path(data_dir))
        print(f"Seeding {CONNECTORS:,} Exchange connectors …", flush=True)
        ids = seed(CONNECTORS)
        token = access_token()
        child, graph_base_url, ca_file = start_server(free_port())
        try:
            rows = run_scenarios(
                graph_base_url, ca_file, token, ids[:SYNCED], repeat=args.repeat, top=args.top
            )
        finally:
            child.terminate()
            child.wait(timeout=10)
    print_table(rows, repeat=args.repeat)


def run_scenarios(
    graph_base_url: str, ca_file: str, token: str, sync_ids: list[str], *, repeat: int, top: int
) -> list[Row]:
    from django.conf import settings

    from graph.batch import BatchRequest
    from graph.client import GraphClient
    from graph.outbound import build_outbound_session

    settings.OUTBOUND_CA_BUNDLE = ca_file
    session = build_outbound_session()
    client = GraphClient(
        lambda scopes, *, force_refresh=False: token, base_url=graph_base_url, session=session
    )

    def list_with_client() -> int:
        return sum(1 for _ in client.iter_items(EXCHANGE, params={"$top": top}))

    def list_with_plain_session() -> int:
        url: str | None = f"{graph_base_url}{EXCHANGE}"
        params: dict[str, int] | None = {"$top": top}
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        count = 0
        while url:
            # verify= as the client passes it: REQUESTS_CA_BUNDLE would override session.verify.
            response = session.get(url, params=params, headers=headers, verify=session.verify)
            response.raise_for_status()
            body = response.json()
            count += len(body["value"])
            url, params = body.get("@odata.nextLink"), None
        return count

    def sync_one_by_one() -> int:
        for connector_id in sync_ids:
            client.post(f"{EXCHANGE}/{connector_id}/sync", json={"syncType": "deltaSync"})
        return len(sync_ids)

    def sync_batched() -> int:
        results = client.batch(
            BatchRequest(
                id=str(n),
                method="POST",
                url=f"{EXCHANGE}/{connector_id}/sync",
                body={"syncType": "deltaSync"},
            )
            for n, connector_id in enumerate(sync_ids)
        )
        failed = [result.error for result in results.values() if not result.ok]
        if failed:
            raise SystemExit(f"{len(failed)} batched syncs failed, e.g. {failed[0]}")
        return len(results)

    # Warm the connection pool, the server's caches and the token check before timing.
    assert list_with_client() == list_with_plain_session() == CONNECTORS
    sync_batched()

    plain, wrapped = compare(list_with_plain_session, list_with_client, repeat)
    single, batched = compare(sync_one_by_one, sync_batched, repeat)
    listing = f"list {CONNECTORS:,} connectors ($top={top})"
    syncing = f"sync {len(sync_ids)} connectors"

    def row(scenario: str, measured: Measured, versus: Measured | None = None, of: str = "") -> Row:
        ratio = ""
        if versus is not None:
            ratio = (
                f"wall {measured.seconds / versus.seconds:.2f}×, "
                f"CPU {measured.cpu_seconds / versus.cpu_seconds:.2f}× {of}"
            )
        return Row(scenario, measured.round_trips, measured.seconds, measured.cpu_seconds, ratio)

    return [
        row(f"{listing}: plain outbound session", plain),
        row(f"{listing}: GraphClient", wrapped, plain, "plain"),
        row(f"{syncing}: one POST each", single),
        row(f"{syncing}: $batch", batched, single, "one-by-one"),
    ]


def print_table(rows: list[Row], *, repeat: int) -> None:
    width = max(len(row.scenario) for row in rows)
    print()
    print(f"{'scenario':<{width}}  {'round trips':>11}  {'wall':>9}  {'client CPU':>10}  ratio")
    print(f"{'-' * width}  {'-' * 11}  {'-' * 9}  {'-' * 10}  {'-' * 30}")
    for row in rows:
        print(
            f"{row.scenario:<{width}}  {row.round_trips:>11}  {row.seconds:>7.3f} s"
            f"  {row.cpu_seconds:>8.3f} s  {row.ratio}"
        )
    print(
        f"\nmedians of {repeat} runs each, run alternately, over sandbox_serve (HTTPS on "
        "127.0.0.1, a separate process); client CPU is this process's CPU time"
    )


if __name__ == "__main__":
    main()

"""Benchmark the audit log at 10,000 vs 1,000,000 entries on PostgreSQL: flat, not growing.

Run (PostgreSQL only; the database must be yours, it is only given two extra schemas):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h2 REDIS_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python bench/audit_scale.py [--small 10000] [--large 1000000] [--rounds 7]

It migrates two schemas of that database, `audit_bench_<entries>` for each size, and seeds
each with `COPY` to the given number of entries: a realistic mix of actions (an attempt
and an outcome each; 90 % succeeded, 6 % failed, 3 % unknown, 1 % never answered) by 20 actors
on 6,000 objects, every row hashed into a valid keyed chain (the seeding is skipped when a
schema already holds the right count; `--reseed` starts over). An admin signs in through the
real MSAL flow (sandbox), then for each request the two schemas are timed alternately, round
after round, through Django's test client (the whole stack: middleware, session, query, render),
and the medians compared:

    /audit/ (first page), ?action=…, ?outcome=unknown, ?q=<a server name>, ?q=<a request id>,
    ?page=last, and the API's first page.

Then: peak memory (tracemalloc) of the CSV export of every action through the real view, and
`audit_verify`'s throughput, at each size. The ratio large / small should stay ≤ 2 for every
request, the first page at 1M under 150 ms, and the CSV peak ≤ 1.2× the small one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS: dict[str, str] = {}  # "small"/"large" → audit_bench_<entries>
ACTIONS = [
    ("exchangeConnector.update", "exchangeConnector"),
    ("exchangeConnector.sync", "exchangeConnector"),
    ("exchangeConnector.create", "exchangeConnector"),
    ("exchangeConnector.delete", "exchangeConnector"),
    ("appProxyConnector.update", "appProxyConnector"),
    ("appProxyConnector.move", "appProxyConnector"),
    ("connectorGroup.create", "connectorGroup"),
    ("connectorGroup.update", "connectorGroup"),
    ("connectorGroup.delete", "connectorGroup"),
]
current_schema = {"name": "public"}


def configure_django() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("bench/audit_scale.py needs DATABASE_URL=postgres://… (your own database).")
    for name in ("ENTRA_CLIENT_ID", "GRAPH_BASE_URL", "SANDBOX_FAULTS"):
        os.environ.pop(name, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["DEBUG"] = "0"  # DEBUG would keep every SQL query in memory
    sys.path.insert(0, str(ROOT))
    import django
    from django.db.backends.signals import connection_created

    def set_search_path(sender: Any, connection: Any, **kwargs: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SET search_path TO {current_schema['name']}, public")

    connection_created.connect(set_search_path)
    django.setup()


def use_schema(size: str) -> None:
    from django.db import connection

    current_schema["name"] = SCHEMAS[size]
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(f"SET search_path TO {SCHEMAS[size]}, public")


def prepare_schema(size: str, entries: int, *, reseed: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        if reseed:
            cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMAS[size]} CASCADE")
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMAS[size]}")
        # One pg_trgm for both schemas, in public (on the search path of both).
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    use_schema(size)
    call_command("migrate", verbosity=0)
    from audit.models import AuditEntry

    held = AuditEntry.objects.count()
    if held == entries:
        print(f"{size}: {entries:,} entries already seeded")
        return
    if held:
        sys.exit(f"{SCHEMAS[size]} holds {held:,} entries, not {entries:,}: pass --reseed.")
    started = time.perf_counter()
    seed(entries)
    print(f"{size}: seeded {entries:,} entries in {time.perf_counter() - started:.0f} s")


def plan(entries: int) -> Any:
    """The rows of `entries` entries: attempts each followed by its outcome (1 % never)."""
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    n_id, action_no = 0, 0
    while n_id < entries:
        action, target_type = ACTIONS[action_no % len(ACTIONS)]
        actor = action_no % 20
        target = action_no * 7919 % 6000
        correlation = uuid.UUID(int=action_no + 1)
        common = {
            "correlation_id": correlation,
            "actor_oid": f"00000000-0000-4000-8000-{actor:012d}",
            "actor_upn": f"admin{actor:02d}@contoso.example",
            "actor_name": f"Admin {actor:02d}",
            "tenant_id": "5a4d0b0e-0000-4c0d-9e00-5a4db0c5e7a1",
            "action": action,
            "target_type": target_type,
            "target_id": f"{target_type[:2]}-{target:05d}",
            "target_name": f"EXCH{target:05d}",
            "before": {"status": "connected", "version": f"15.2.{target % 90}"},
            "after": {"status": "disconnected", "version": f"15.2.{target % 90 + 1}"},
            "reason": f"Change ticket CHG{action_no:07d}" if action_no % 3 == 0 else "",
            "client_ip": f"198.51.100.{actor}",
            "user_agent": "Mozilla/5.0 (bench)",
            "channel": "api" if action_no % 5 == 0 else "web",
        }
        n_id += 1
        attempt_id = n_id
        yield {
            **common,
            "id": n_id,
            "created_at": start + dt.timedelta(seconds=n_id * 30),
            "phase": "attempt",
            "attempt_id": None,
            "outcome": "",
            "graph_status": None,
            "graph_code": "",
            "graph_request_id": "",
            "error_message": "",
        }
        roll = action_no % 100
        if roll != 99 and n_id < entries:
            n_id += 1
            outcome = "succeeded" if roll < 90 else "failed" if roll < 96 else "unknown"
            yield {
                **common,
                "id": n_id,
                "created_at": start + dt.timedelta(seconds=n_id * 30),
                "phase": "outcome",
                "attempt_id": attempt_id,
                "outcome": outcome,
                "graph_status": {"succeeded": 200, "failed": 403, "unknown": None}[outcome],
                "graph_code": "Authorization_RequestDenied" if outcome == "failed" else "",
                "graph_request_id": str(uuid.UUID(int=10**12 + action_no)),
                "error_message": "Insufficient privileges." if outcome == "failed" else "",
            }
        action_no += 1


def seed(entries: int) -> None:
    """COPY the rows in, each hashed into the keyed chain as audit_record would."""
    from types import SimpleNamespace

    from django.db import connection, transaction

    from audit import chain
    from audit.models import AuditEntry

    # Every column of the table, as the model defines it (COPY needs them all, in one order).
    columns = [field.column for field in AuditEntry._meta.concrete_fields]
    keys = chain.configured_keys()
    secret = keys.secret(keys.current_id)
    prev = chain.GENESIS_HASH
    with transaction.atomic(), connection.cursor() as cursor:
        copy_sql = f"COPY audit_auditentry ({', '.join(columns)}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for fields in plan(entries):
                row = SimpleNamespace(
                    **fields,
                    graph_operation_id="",
                    graph_activity_id="",
                    prev_hash=prev,
                    key_id=keys.current_id,
                )
                row.hash = chain.keyed_hash(row, secret)
                prev = row.hash
                copy.write_row(
                    [
                        json.dumps(value) if isinstance(value, dict) else value
                        for value in (getattr(row, column) for column in columns)
                    ]
                )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('audit_auditentry', 'id'), %s)", [entries]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditentry")


def timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def request(client: Any, url: str, params: dict[str, str]) -> Callable[[], Any]:
    def run() -> None:
        response = client.get(url, params)
        assert response.status_code == 200, (
            url,
            params,
            response.status_code,
            response.get("Location"),
        )

    return run


def csv_peak() -> tuple[int, int, float]:
    """Peak traced memory, bytes written and seconds of the CSV export through the real view."""
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory
    from django_htmx.middleware import HtmxDetails

    from audit.views import audit_list

    request_ = RequestFactory().get("/audit/", {"format": "csv"})
    request_.user = AnonymousUser()
    request_.htmx = HtmxDetails(request_)
    tracemalloc.start()
    started = time.perf_counter()
    response = audit_list(request_)
    written = sum(len(chunk) for chunk in response.streaming_content)
    response.close()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, written, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--skip-csv", action="store_true")
    args = parser.parse_args()
    configure_django()
    sizes = {"small": args.small, "large": args.large}
    for size, entries in sizes.items():
        SCHEMAS[size] = f"audit_bench_{entries}"
        prepare_schema(size, entries, reseed=args.reseed)

    from django.test import Client

    from tests.conftest import ADMIN, sign_in

    clients = {}
    for size in sizes:  # signed in on each schema: the sign-in keeps the user in the database
        use_schema(size)
        clients[size] = sign_in(Client(), ADMIN, "/audit/")
    requests = {
        "/audit/ first page": ("/audit/", {}),
        "filter ?action=connectorGroup.update": ("/audit/", {"action": "connectorGroup.update"}),
        "filter ?outcome=unknown": ("/audit/", {"outcome": "unknown"}),
        "search ?q=EXCH01234 (a server name)": ("/audit/", {"q": "EXCH01234"}),
        "search ?q=<a request id>": ("/audit/", {"q": str(uuid.UUID(int=10**12 + 4321))}),
        "last page ?page=last": ("/audit/", {"page": "last"}),
        "API list, first page": ("/api/v1/audit/", {}),
    }
    times: dict[str, dict[str, list[float]]] = {
        name: {"small": [], "large": []} for name in requests
    }
    for size in sizes:  # warm up: imports, templates, plans, caches
        use_schema(size)
        for url, params in requests.values():
            request(clients[size], url, params)()
    for _ in range(args.rounds):
        for name, (url, params) in requests.items():
            for size in ("small", "large"):
                use_schema(size)
                times[name][size].append(timed(request(clients[size], url, params)))

    print()
    print(f"{'request':<40} {args.small:>10,} {args.large:>12,}   ratio")
    for name, by_size in times.items():
        small, large = (statistics.median(by_size[s]) * 1000 for s in ("small", "large"))
        print(f"{name:<40} {small:>8.1f}ms {large:>10.1f}ms   {large / small:.2f}×")

    from audit.verification import audit_chain_verify

    print()
    for size, entries in sizes.items():
        use_schema(size)
        report = audit_chain_verify()
        assert report.intact, report.problem
        print(
            f"audit_verify {entries:>10,} entries: {report.seconds:6.1f} s, "
            f"{report.per_second:,.0f} entries/s"
        )
    if args.skip_csv:
        return
    print()
    peaks = {}
    use_schema("small")
    csv_peak()  # unmeasured: first-use costs (imports, compiled SQL) aside
    for size, entries in sizes.items():
        use_schema(size)
        peak, written, seconds = csv_peak()
        peaks[size] = peak
        print(
            f"CSV export {entries:>10,} entries: peak {peak / 2**20:6.2f} MiB, "
            f"{written / 2**20:8.1f} MiB written in {seconds:6.1f} s"
        )
    print(f"CSV peak ratio large / small: {peaks['large'] / peaks['small']:.2f}")


if __name__ == "__main__":
    main()

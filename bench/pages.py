"""Benchmark the Exchange connector list: server time vs its Graph GETs, page vs row-swap bytes.

Run: `.venv/bin/python bench/pages.py [--rounds 10] [--connectors 1000]`. It builds a throw-away
SQLite database in a temporary DATA_DIR (never the configured one) with the test settings and
DEBUG off, seeds `--connectors` Exchange connectors in the in-process sandbox tenant, signs
admin@sandbox.example in through the real MSAL flow with Django's test client, then measures:
  1. the server time of `GET /exchange-connectors/` (the whole Django stack: middleware, session,
     token from the MSAL cache, every Graph page, filter, sort, render) vs. the Graph GETs that
     page needs made as plain calls (a GraphClient for the same session iterating every page of
     the collection with the page's $top): alternately, medians; the ratio is what the page adds;
  2. the bytes of the full page vs. the htmx responses an admin triggers on one row (inline
     editor, review, save; quick sync and its status poll), each with the Graph calls it made.
Graph is the sandbox in this process (sandbox.transport), so both timings include its work.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import html
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpResponse
    from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
URL = "/exchange-connectors/"
HTMX = {"HX-Request": "true"}


def configure_django(data_dir: Path) -> None:
    # A private tenant: never the developer's database, cache, real Entra or injected faults.
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "ENTRA_CLIENT_ID",
        "GRAPH_BASE_URL",
        "SANDBOX_FAULTS",
    ):
        os.environ.pop(name, None)
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["DEBUG"] = "0"  # DEBUG would keep every SQL query in memory
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(count: int) -> list[str]:
    """`count` connectors with every listed column filled, in a realistic mix of states."""
    from django.utils import timezone

    from sandbox.models import ExchangeConnector

    now = timezone.now()
    statuses = ("connected",) * 7 + ("disconnected", "connectionPending", "none")
    connectors = ExchangeConnector.objects.bulk_create(
        (
            ExchangeConnector(
                server_name=f"EXCH{n:05}.contoso.local",
                connector_server_name=f"ICS{n:05}.contoso.local",
                exchange_connector_type="hosted" if n % 4 == 0 else "onPremises",
                status=statuses[n % len(statuses)],
                primary_smtp_address=f"connector{n}@contoso.com",
                exchange_alias=f"intune-{n}",
                exchange_organization="Contoso",
                version=f"15.2.{1100 + n % 50}.7",
                last_sync_date_time=now - timedelta(hours=(n % 7) * 13),
                created_at=now + timedelta(microseconds=n),
            )
            for n in range(count)
        ),
        batch_size=1000,
    )
    return [connector.id for connector in connectors]


def signed_in_admin() -> Client:
    from django.test import Client

    from tests.conftest import ADMIN, sign_in

    return sign_in(Client(), ADMIN, URL)


def last_request_id() -> int:
    from sandbox.models import RequestLog

    return RequestLog.objects.order_by("-id").values_list("id", flat=True).first() or 0


def graph_calls_since(last_id: int) -> list[str]:
    """The top-level Graph requests the sandbox answered after `last_id`, as "METHOD path"."""
    from sandbox.models import RequestLog

    calls = RequestLog.objects.filter(id__gt=last_id, batch_request_id="").order_by("id")
    return [f"{method} {path}" for method, path in calls.values_list("method", "path")]


# -- 1. time ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    scenario: str
    graph_gets: int  # Graph requests of one run, from the sandbox's request log
    seconds: list[float]  # wall time of each run
    cpu_seconds: list[float]  # this process's CPU time of each run (the sandbox runs in it too)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_seconds)


def compare(
    runs: dict[str, Callable[[], object]], rounds: int
) -> dict[str, tuple[list[float], list[float], int]]:
    """Runs the two alternately (ABBA…), so a process that slows down over time favours neither.

    Returns each one's wall and CPU times and its Graph requests (of the last run)."""
    names = list(runs)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    trips = dict.fromkeys(names, 0)
    for run in range(rounds):
        for name in names if run % 2 == 0 else reversed(names):
            before = last_request_id()
            gc.collect()  # so neither run pays for the other's garbage
            started, cpu_started = time.perf_counter(), time.process_time()
            runs[name]()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
            trips[name] = len(graph_calls_since(before))
    return {name: (wall[name], cpu[name], trips[name]) for name in names}


def time_list(client: Client, *, count: int, rounds: int) -> tuple[Timed, Timed]:
    from connectors import paths
    from connectors.selectors import PAGE_SIZE
    from kernel.graph_clients import graph_client_for_session

    session = client.session  # the signed-in admin's session, as the page's middleware loads it

    def page() -> None:
        response = client.get(URL)
        assert response.status_code == 200, response.status_code
        assert response.content.count(b'data-testid="row"') > 0

    def graph() -> None:
        # What the page needs from Graph, as plain client calls: a client for the session (its
        # token from the MSAL cache) and every page of the collection at the page's $top.
        graph_client = graph_client_for_session(session)
        items = sum(
            len(page.items)
            for page in graph_client.iter_pages(
                paths.EXCHANGE_CONNECTORS, params={"$top": PAGE_SIZE}
            )
        )
        assert items == count, items

    # Unmeasured: first-use costs (imports, compiled templates, connections) aside.
    page()
    graph()
    measured = compare({"graph": graph, "page": page}, rounds)
    expected = math.ceil(count / PAGE_SIZE)
    gets = {name: trips for name, (_, _, trips) in measured.items()}
    assert gets == {"graph": expected, "page": expected}, (gets, expected)
    return (
        Timed(f"Graph GETs as client calls ($top={PAGE_SIZE})", expected, *measured["graph"][:2]),
        Timed(f"GET {URL} (server time)", expected, *measured["page"][:2]),
    )


# -- 2. bytes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sized:
    scenario: str
    body_bytes: int
    gzip_bytes: int
    graph_calls: int


def sized(scenario: str, client: Client, send: Callable[[Client], HttpResponse]) -> Sized:
    before = last_request_id()
    response = send(client)
    assert response.status_code == 200, (scenario, response.status_code)
    body = response.content
    if scenario.startswith("row:"):
        assert body.lstrip().startswith(b"<tr"), (scenario, body[:200])
    return Sized(scenario, len(body), len(gzip.compress(body)), len(graph_calls_since(before)))


def edit_form(editor: str) -> dict[str, str]:
    """The inline editor's fields as the browser would submit them unchanged."""
    fields = dict(
        re.findall(
            r'<input type="(?:text|email|hidden|datetime-local)" name="(\w+)" value="([^"]*)"',
            editor,
        )
    )
    for name in ("status", "exchangeConnectorType"):
        chosen = re.search(rf'name="{name}".*?<option value="(\w+)" selected>', editor, re.S)
        assert chosen, f"no {name} in the editor"
        fields[name] = chosen.group(1)
    fields.pop("csrfmiddlewaretoken", None)
    return {name: html.unescape(value) for name, value in fields.items()}


def measure_bytes(client: Client, connector_id: str) -> list[Sized]:
    from connectors.views.exchange import ROWS_PER_PAGE

    edit = f"{URL}{connector_id}/edit/"
    row = {**HTMX, "HX-Target": f"row-{connector_id}"}  # the inline editor targets its row
    rows = [
        sized(f"full list page ({ROWS_PER_PAGE} rows)", client, lambda c: c.get(URL)),
        sized(
            f"htmx list swap, page 2 ({ROWS_PER_PAGE} rows)",
            client,
            lambda c: c.get(URL, {"page": 2}, headers=HTMX),
        ),
    ]
    editor = client.get(edit, headers=row).content.decode()
    assert editor.lstrip().startswith(f'<tr id="row-{connector_id}"'), editor[:200]
    changed = {**edit_form(editor), "exchangeOrganization": "Northwind", "reason": "Benchmark"}
    rows += [
        sized("row: inline editor (GET)", client, lambda c: c.get(edit, headers=row)),
        sized("row: review (POST)", client, lambda c: c.post(edit, changed, headers=row)),
        sized(
            "row: save (POST)",
            client,
            lambda c: c.post(edit, {**changed, "step": "save"}, headers=row),
        ),
    ]
    sync = f"{URL}{connector_id}/sync/"
    synced = client.post(sync, {"sync_type": "deltaSync"}, headers=HTMX)
    poll = re.search(r'hx-get="([^"]*/sync-status/[^"]*)"', synced.content.decode())
    assert poll, "the quick-sync row does not poll"
    rows += [
        sized(
            "row: quick sync (POST)",
            client,
            lambda c: c.post(sync, {"sync_type": "deltaSync"}, headers=HTMX),
        ),
        sized(
            "row: sync status poll (GET)",
            client,
            lambda c: c.get(html.unescape(poll.group(1)), headers=HTMX),
        ),
    ]
    return rows


# -- report ----------------------------------------------------------------------------------------


def kib(value: int) -> str:
    return f"{value / 1024:.1f} KiB"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def print_report(graph: Timed, page: Timed, sizes: list[Sized], *, count: int, rounds: int) -> None:
    wall_ratio, cpu_ratio = page.median / graph.median, page.cpu_median / graph.cpu_median
    width = max(len(row.scenario) for row in (graph, page, *sizes))
    print()
    title = f"list of {count:,} connectors"
    print(f"{title:<{width}}  {'Graph GETs':>10}  {'wall':>9}  {'min–max':>17}  {'CPU':>9}  ratio")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 9}  {'-' * 17}  {'-' * 9}  {'-' * 30}")
    for row, note in (
        (graph, ""),
        (page, f"wall {wall_ratio:.2f}×, CPU {cpu_ratio:.2f}× Graph"),
    ):
        spread = f"{ms(min(row.seconds))}–{ms(max(row.seconds))}"
        print(
            f"{row.scenario:<{width}}  {row.graph_gets:>10}  {ms(row.median):>9}"
            f"  {spread:>17}  {ms(row.cpu_median):>9}  {note}"
        )
    full = sizes[0]
    print()
    print(
        f"{'response':<{width}}  {'Graph calls':>11}  {'body':>10}  {'gzipped':>10}"
        "  vs the full page"
    )
    print(f"{'-' * width}  {'-' * 11}  {'-' * 10}  {'-' * 10}  {'-' * 16}")
    for row in sizes:
        times = full.body_bytes / row.body_bytes
        share = "" if row is full else f"{times:.{1 if times < 10 else 0}f}× smaller"
        print(
            f"{row.scenario:<{width}}  {row.graph_calls:>11}  {kib(row.body_bytes):>10}"
            f"  {kib(row.gzip_bytes):>10}  {share}"
        )
    save = next(row for row in sizes if row.scenario.startswith("row: save"))
    sync = next(row for row in sizes if row.scenario.startswith("row: quick sync"))
    print(
        f"\nmedians of {rounds} rounds each, run alternately, in one process (the sandbox's Graph "
        "in-process: CPU counts both); body bytes without headers"
    )
    print(
        f"list of {count:,}: page {ms(page.median)} vs its {graph.graph_gets} Graph GETs "
        f"{ms(graph.median)} → wall {wall_ratio:.2f}×, CPU {cpu_ratio:.2f}×; "
        f"full page {kib(full.body_bytes)} vs row save {kib(save.body_bytes)} "
        f"({full.body_bytes / save.body_bytes:.0f}×) and quick sync {kib(sync.body_bytes)} "
        f"({full.body_bytes / sync.body_bytes:.0f}×)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="runs per variant (median)")
    parser.add_argument("--connectors", type=int, default=1000)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="pages-bench-") as data_dir:
        configure_django(Path(data_dir))
        ids = seed(args.connectors)
        client = signed_in_admin()
        print(f"{args.connectors:,} Exchange connectors seeded; admin signed in", flush=True)
        graph, page = time_list(client, count=args.connectors, rounds=args.rounds)
        sizes = measure_bytes(client, ids[0])
    print_report(graph, page, sizes, count=args.connectors, rounds=args.rounds)


if __name__ == "__main__":
    main()

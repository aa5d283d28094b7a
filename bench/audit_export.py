"""Benchmark the audit log's CSV export: peak memory for 100,000 actions vs 10,000.

Run: `.venv/bin/python bench/audit_export.py [--small 10000] [--large 100000]`. It builds a
throw-away SQLite database in a temporary DATA_DIR (never the configured one), records `--small`
audited writes (an attempt and an outcome each, through `audited_graph_write`), exports them
through the real view (`audit.views.audit_list` with `?format=csv`, consuming the
StreamingHttpResponse chunk by chunk as a WSGI server would), then grows the log to `--large`
and exports again. Peak memory is tracemalloc's peak during each export. For contrast it also
measures materialising the same rows as a list (what a non-streaming export would hold).
A streaming export should stay roughly flat (ratio near 1); the list grows with the log.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Measure:
    peak_bytes: int
    seconds: float
    output_bytes: int


def configure_django(data_dir: Path) -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["DEBUG"] = "0"  # DEBUG would keep every SQL query in memory
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def grow_log(target: int) -> None:
    """Record audited writes until the log holds `target` actions (one transaction per 1,000,
    so the benchmark's set-up does not pay an fsync per row)."""
    from django.db import transaction

    from audit.models import Action, AuditEntry, Phase, TargetType
    from audit.services import Actor, Target, audited_graph_write

    @dataclass(frozen=True)
    class Answer:
        status: int
        request_id: str

    actor = Actor(
        oid="b0000000-0000-4000-8000-00000000be4c",
        upn="bench@contoso.example",
        name="Bench Admin",
        tenant_id="5a4d0b0e-0000-4c0d-9e00-5a4db0c5e7a1",
        client_ip="198.51.100.20",
        user_agent="bench/audit_export",
    )
    start = AuditEntry.objects.filter(phase=Phase.ATTEMPT).count()
    for first in range(start, target, 1000):
        with transaction.atomic():
            for n in range(first, min(first + 1000, target)):
                with audited_graph_write(
                    actor=actor,
                    action=Action.EXCHANGE_CONNECTOR_UPDATE,
                    target=Target(
                        type=TargetType.EXCHANGE_CONNECTOR, id=f"ex-{n}", name=f"EXCH{n:06d}"
                    ),
                    before={"serverName": f"exch{n}", "status": "connected"},
                    after={"serverName": f"exch{n}.contoso.example", "status": "connected"},
                    reason=f"Benchmark change {n}",
                ) as write:
                    write.report(Answer(status=200, request_id=f"req-{n:08d}"))


def measure(run: Callable[[], int]) -> Measure:
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    output = run()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Measure(peak_bytes=peak, seconds=seconds, output_bytes=output)


def export_through_the_view() -> int:
    """GET /audit/?format=csv through the real view; chunks are written out and dropped."""
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory
    from django_htmx.middleware import HtmxDetails

    from audit.views import audit_list

    request = RequestFactory().get("/audit/", {"format": "csv"})
    request.user = AnonymousUser()
    request.htmx = HtmxDetails(request)
    response = audit_list(request)
    assert response.streaming, "the export must stream"
    written = 0
    for chunk in response.streaming_content:
        written += len(chunk)
    response.close()
    return written


def materialise_as_list() -> int:
    """What a non-streaming export would hold: every row of the same query at once."""
    from audit.selectors import audit_action_list

    rows = list(audit_action_list())
    return len(rows)


def mib(value: int) -> str:
    return f"{value / 2**20:.2f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="audit-export-bench-") as data_dir:
        configure_django(Path(data_dir))
        results: dict[int, tuple[Measure, Measure]] = {}
        for size in (args.small, args.large):
            started = time.perf_counter()
            grow_log(size)
            print(f"log holds {size:,} actions (set-up {time.perf_counter() - started:.1f} s)")
            if size == args.small:
                # Unmeasured: first-use costs (imports, compiled templates and SQL) aside.
                export_through_the_view()
            results[size] = (measure(export_through_the_view), measure(materialise_as_list))

    small_stream, small_list = results[args.small]
    large_stream, large_list = results[args.large]
    print()
    header = ("actions", "CSV view peak", "CSV size", "time", "list peak")
    print("{:>10}  {:>14}  {:>11}  {:>7}  {:>12}".format(*header))
    for size, (stream, listed) in results.items():
        print(
            f"{size:>10,}  {mib(stream.peak_bytes):>14}  {mib(stream.output_bytes):>11}  "
            f"{stream.seconds:>6.1f}s  {mib(listed.peak_bytes):>12}"
        )
    print()
    print(
        f"streamed CSV export: peak {mib(large_stream.peak_bytes)} for {args.large:,} vs "
        f"{mib(small_stream.peak_bytes)} for {args.small:,} → ratio "
        f"{large_stream.peak_bytes / small_stream.peak_bytes:.2f} "
        f"(log {args.large / args.small:.0f}× larger)"
    )
    print(
        f"rows held as a list:  peak ratio "
        f"{large_list.peak_bytes / small_list.peak_bytes:.2f} (for contrast)"
    )


if __name__ == "__main__":
    main()

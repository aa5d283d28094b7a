"""Benchmark foul weather: how long each page and API call takes to answer under each Graph
fault, as a ratio to the Graph deadline, side by side with the same call in fair weather.

Run: `.venv/bin/python bench/faults.py [--deadline 15]`. It builds a throw-away SQLite database
in a temporary DATA_DIR (never the configured one) with the test settings and DEBUG off, seeds 25
Exchange connectors in the in-process sandbox tenant, signs admin@sandbox.example in through the
real MSAL flow with Django's test client, sets GRAPH_REQUEST_DEADLINE_SECONDS to `--deadline`,
then for each fault of sandbox.faults (on every Graph request of the call's method: the reads'
GET, the write's PATCH or POST) times each call once through the whole Django stack. A ratio
at or under 1.0 means the answer came within the deadline; the server's worker timeout (30 s in
the README's gunicorn command) is 2x a 15 s deadline. The deadline bounds Graph's part of a call;
the dashboard's own work comes on top (a bulk sync records an attempt and an outcome row per
connector in the audit log).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import configure_django  # noqa: E402

if TYPE_CHECKING:
    from django.http import HttpResponse
    from django.test import Client

FAULTS: dict[str, dict[str, Any]] = {
    "none (fair weather)": {},
    "429, Retry-After 2": {"fault": "429", "retry_after": 2},
    "429, Retry-After 60": {"fault": "429", "retry_after": 60},
    "500": {"fault": "500"},
    "503": {"fault": "503"},
    "504": {"fault": "504"},
    "delay 25 s": {"fault": "delay", "seconds": 25},
    "drop": {"fault": "drop"},
    "malformed": {"fault": "malformed"},
}

Call = Callable[["Client", list[str], dict[str, str]], "HttpResponse"]


def operations() -> dict[str, tuple[Call, str]]:
    """Each call and the Graph method its fault is injected on."""
    htmx = {"HX-Request": "true"}
    return {
        "list page": (lambda c, ids, form: c.get("/exchange-connectors/"), "GET"),
        "detail page": (lambda c, ids, form: c.get(f"/exchange-connectors/{ids[0]}/"), "GET"),
        "edit save": (
            lambda c, ids, form: c.post(
                f"/exchange-connectors/{ids[0]}/edit/",
                {**form, "exchangeAlias": "foul-weather", "step": "save"},
            ),
            "PATCH",
        ),
        "sync": (
            lambda c, ids, form: c.post(
                f"/exchange-connectors/{ids[0]}/sync/", {"sync_type": "deltaSync"}
            ),
            "POST",
        ),
        "bulk sync (25)": (
            lambda c, ids, form: c.post(
                "/exchange-connectors/sync/",
                {"ids": ids, "sync_type": "deltaSync"},
                headers=htmx,
            ),
            "POST",
        ),
        "API list": (lambda c, ids, form: c.get("/api/v1/exchange-connectors/"), "GET"),
        "API update": (
            lambda c, ids, form: c.patch(
                f"/api/v1/exchange-connectors/{ids[0]}/update/",
                {"values": {"exchangeAlias": "foul-weather"}, "reason": "bench"},
                content_type="application/json",
            ),
            "PATCH",
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deadline", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as data_dir:
        configure_django(Path(data_dir))
        from django.conf import settings
        from django.test import Client

        from sandbox import faults
        from tests.conftest import ADMIN, sign_in
        from tests.connectors.test_exchange_changes import open_form
        from tests.sandbox import factories

        settings.GRAPH_REQUEST_DEADLINE_SECONDS = args.deadline
        settings.SANDBOX_SYNC_DELAY_SECONDS = 3600
        client = sign_in(Client(raise_request_exception=False), ADMIN)
        calls = operations()
        print(f"Graph deadline {args.deadline:g} s; seconds to answer (ratio to the deadline)")
        print("| fault | " + " | ".join(calls) + " |")
        print("|---|" + "---|" * len(calls))
        worst = 0.0
        for fault, rule in FAULTS.items():
            cells = []
            for call, method in calls.values():
                # Fresh connectors and form each time, so every edit is a real change.
                faults.clear()
                connectors = [factories.exchange_connector() for _ in range(25)]
                ids = [connector.id for connector in connectors]
                form = open_form(client, connectors[0])
                if rule:
                    faults.install({"method": method, "path": "/beta/*", **rule})
                started = time.monotonic()
                response = call(client, ids, form)
                seconds = time.monotonic() - started
                ratio = seconds / args.deadline
                worst = max(worst, ratio) if rule else worst
                cells.append(f"{response.status_code}, {seconds:.2f} s ({ratio:.2f}x)")
            faults.clear()
            print(f"| {fault} | " + " | ".join(cells) + " |", flush=True)
        print(f"\nSlowest answer under a fault: {worst:.2f}x the deadline.")


if __name__ == "__main__":
    main()

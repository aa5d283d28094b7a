"""The README's automation script, run as a user would: device code sign-in at the sandbox over
real TLS (`sandbox_serve`), the dashboard's API on a live server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import certifi
import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import Client

from audit.models import AuditEntry, Channel, Outcome, Phase
from sandbox import server
from tests.conftest import OPERATOR, READER
from tests.sandbox import factories

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "sync_disconnected.py"


@pytest.fixture
def sandbox_over_tls(transactional_db: None, tmp_path: Path) -> Any:
    running = server.start(certificate_dir=tmp_path / "tls")
    yield running
    running.stop()


def approve(user_code: str, upn: str) -> None:
    # The in-memory SQLite test database is shared by this thread and the servers' threads;
    # a write can meet another thread's table lock for an instant: try again, like a person.
    for _ in range(10):
        try:
            page = Client().post(
                f"/sandbox/{settings.ENTRA_TENANT_ID}/oauth2/deviceauth",
                {"user_code": user_code, "username": upn},
            )
        except OperationalError:
            time.sleep(0.2)
            continue
        assert page.status_code == 200
        return
    pytest.fail("The device page stayed locked.")


def run_script(
    live_server: Any, sandbox: Any, upn: str, *, environment_ca: str | None = None
) -> tuple[int, str]:
    """`environment_ca`: a REQUESTS_CA_BUNDLE the script's environment sets (None: none)."""
    env = {k: v for k, v in os.environ.items() if k not in {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}}
    if environment_ca is not None:
        env["REQUESTS_CA_BUNDLE"] = environment_ca
    process = subprocess.Popen(
        [
            sys.executable,
            str(SCRIPT),
            "--dashboard",
            live_server.url,
            "--authority",
            sandbox.authority(),
            "--client-id",
            "a17a7e11-5c12-4b7e-9d00-000000005c12",
            "--api-client-id",
            settings.ENTRA_CLIENT_ID,
            "--ca-bundle",
            str(sandbox.ca_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    first = ""
    for line in process.stdout:  # the device-code message (after any warning a library prints)
        first += line
        if code := re.search(r"enter the code (\w+)", line):
            break
    else:
        pytest.fail(f"The script did not print a device code: {first}")
    # The person approves on the device page (here the dashboard's /sandbox/ copy of it).
    approve(code.group(1), upn)
    rest, _ = process.communicate(timeout=120)
    return process.returncode, first + rest


def test_the_script_syncs_every_disconnected_connector(live_server, sandbox_over_tls) -> None:
    disconnected = [
        factories.exchange_connector(
            server_name=f"EXCH-DOWN{n}.contoso.local", status="disconnected"
        )
        for n in range(3)
    ]
    factories.exchange_connector(server_name="EXCH-UP.contoso.local", status="connected")
    status, output = run_script(live_server, sandbox_over_tls, OPERATOR)
    assert status == 0, output
    assert "Sync requested for 3 of 3 disconnected connectors." in output
    synced = AuditEntry.objects.filter(
        phase=Phase.OUTCOME, action="exchangeConnector.sync", outcome=Outcome.SUCCEEDED
    )
    assert {entry.target_id for entry in synced} == {c.id for c in disconnected}
    assert {(entry.channel, entry.actor_upn) for entry in synced} == {(Channel.API, OPERATOR)}


def test_ca_bundle_wins_over_requests_ca_bundle_in_the_environment(
    live_server, sandbox_over_tls
) -> None:
    """Issue 13, item 11: requests lets REQUESTS_CA_BUNDLE override a session's `verify`; the
    script passes --ca-bundle with every request, so a machine-wide bundle cannot hide it."""
    factories.exchange_connector(server_name="EXCH-DOWN.contoso.local", status="disconnected")
    status, output = run_script(
        live_server, sandbox_over_tls, OPERATOR, environment_ca=certifi.where()
    )
    assert status == 0, output
    assert "Sync requested for 1 of 1 disconnected connectors." in output


def test_the_script_reports_a_role_that_may_not_sync(live_server, sandbox_over_tls) -> None:
    factories.exchange_connector(server_name="EXCH-DOWN.contoso.local", status="disconnected")
    status, output = run_script(live_server, sandbox_over_tls, READER)
    assert status != 0
    assert "Sync refused (403): This needs the Operator role." in output
    assert not AuditEntry.objects.exists()


def test_the_readme_shows_the_script_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text()
    assert SCRIPT.read_text().strip() in readme

"""The sandbox in its own process, and this process as a dashboard signed in to it: what the
benchmarks that must not share the dashboard's interpreter with Graph's stand-in are built on.

    with ExitStack() as stack:
        sandbox = start_sandbox(data_dir / "sandbox", stack, seed=[...], faults=[...])
        env = dashboard_env(data_dir / "dashboard", sandbox, database_url="", redis_url="")
        configure_dashboard(env)            # django.setup() and migrate, in this process
        client = signed_in(sandbox)         # admin@sandbox.example, through the real flow

`sandbox_serve` is a separate Python process over HTTPS, as Graph and Entra are separate
services: its work (rendering JSON, its own database and request log) is not done under the
dashboard's interpreter lock, and its request log is read from its SQLite file.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import time
from base64 import urlsafe_b64encode
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from throughput import INHERITED_NOT as SHELL_SETTINGS  # the same children, the same hygiene
from throughput import manage as manage_tree
from throughput import stop

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "admin@sandbox.example"
SHOWCASE = 3  # customers sandbox_seed always makes first: Fabrikam, Northwind, Woodgrove
# The developer's shell must not reach the children (throughput.py's list, and the broker).
INHERITED_NOT = (*SHELL_SETTINGS, "CELERY_BROKER_URL")
CALLBACKS = ("/auth/callback/", "/watch/callback/", "/tenants/consented/", "/auth/sign-in/")


def clean_env(data_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in INHERITED_NOT}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    manage_tree(ROOT, env, *args)


@dataclass(frozen=True)
class Sandbox:
    exports: dict[str, str]
    database: Path  # its SQLite file (the request log)

    @property
    def ca_file(self) -> str:
        return self.exports["OUTBOUND_CA_BUNDLE"]

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Rows of `sql` from the sandbox's own database (its request log)."""
        with sqlite3.connect(self.database) as db:
            return db.execute(sql, params).fetchall()


def start_sandbox(
    data_dir: Path,
    stack: ExitStack,
    *,
    seed: list[str],
    faults: list[dict[str, Any]],
) -> Sandbox:
    """Migrate and seed (`sandbox_seed` with `seed`) a sandbox in `data_dir`, serve it with the
    fault rules `faults`, stopped when `stack` closes."""
    env = clean_env(data_dir)
    env["SANDBOX_MODE"] = "1"
    env["SANDBOX_REDIRECT_URIS"] = ",".join(f"http://testserver{path}" for path in CALLBACKS)
    if faults:
        env["SANDBOX_FAULTS"] = json.dumps(faults)
    manage(env, "migrate", "--verbosity", "0")
    # The sign-in pages' static files (into the tree's staticfiles/, as a deployment does).
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    manage(env, "sandbox_seed", *seed)
    log = data_dir / "sandbox_serve.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, "manage.py", "sandbox_serve", "--port", "0", "--quiet"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    stack.callback(stop, child)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        exports = dict(re.findall(r"^\s*export (\w+)=(\S+)\s*$", log.read_text(), re.M))
        if {"ENTRA_AUTHORITY", "GRAPH_BASE_URL", "OUTBOUND_CA_BUNDLE"} <= exports.keys():
            return Sandbox(exports, data_dir / "dashboard.sqlite3")
        if child.poll() is not None:
            break
        time.sleep(0.2)
    raise SystemExit(f"sandbox_serve did not start:\n{log.read_text()}")


def dashboard_env(
    data_dir: Path, sandbox: Sandbox, *, database_url: str = "", redis_url: str = ""
) -> dict[str, str]:
    """A production-like dashboard (DEBUG off) pointed at the sandbox; SQLite in `data_dir`
    unless `database_url`, Redis only with `redis_url`."""
    env = clean_env(data_dir)
    env.update(sandbox.exports)
    env.update(
        {
            "ENTRA_CLIENT_ID": "sandbox-dashboard",
            "ENTRA_CLIENT_SECRET": secrets.token_urlsafe(16),
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "SECURE_HSTS_SECONDS": "0",
            "AUDIT_CHAIN_KEY": secrets.token_urlsafe(32),
            "WATCH_ENCRYPTION_KEYS": urlsafe_b64encode(os.urandom(32)).decode(),
            "DATABASE_URL": database_url or f"sqlite:///{data_dir / 'dashboard.sqlite3'}",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def configure_dashboard(env: dict[str, str]) -> None:
    """This process becomes the dashboard of `env` (django.setup), its database migrated."""
    os.environ.update(env)
    for name in INHERITED_NOT:
        if name not in env:
            os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def through_sandbox(client, location: str, ca_file: str, fields: dict[str, str]):  # noqa: ANN001, ANN201
    """The sandbox's sign-in page over TLS (its own cookie jar), back to the dashboard."""
    idp = requests.Session()
    form = idp.get(location, verify=ca_file, timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token, form.text[:500]
    chosen = idp.post(
        location,
        data={"csrfmiddlewaretoken": token.group(1), **fields},
        headers={"Referer": location},
        allow_redirects=False,
        verify=ca_file,
        timeout=60,
    )
    assert chosen.status_code == 302, (chosen.status_code, chosen.text[:500])
    back = client.get(chosen.headers["Location"])
    assert back.status_code == 302, (back.status_code, back.content[:500])
    return back


def signed_in(sandbox: Sandbox):  # noqa: ANN201 - django.test.Client, imported after setup
    """Django's test client with admin@sandbox.example signed in through the real MSAL flow."""
    from django.test import Client

    client = Client()
    start = client.get("/auth/sign-in/")
    assert start.status_code == 302, start.content[:500]
    through_sandbox(client, start["Location"], sandbox.ca_file, {"username": ADMIN})
    return client


def ready_customers_only() -> list[str]:
    """After discovery: keep the generated customers ("Customer 004" on), not the partner nor
    the three showcase ones (some refuse by design), by the name GDAP gives; their tenant ids."""
    from tenants.models import ManagedTenant

    ManagedTenant.objects.exclude(display_name__startswith="Customer ").delete()
    return sorted(ManagedTenant.objects.values_list("tenant_id", flat=True))

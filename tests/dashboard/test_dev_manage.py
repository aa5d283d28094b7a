"""`python3 dev.py manage <command>`: the README's way to run a management command on a
development machine (issue 13, item 11: `python manage.py audit_verify` alone fails there)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# dev.py's own steps, with this interpreter standing in for .venv/bin/python.
RUN_DEV = (
    "import sys, dev; from pathlib import Path; dev.PYTHON = Path(sys.executable); "
    "dev.ensure_environment = lambda: None; sys.argv = ['dev.py', *sys.argv[1:]]; dev.main()"
)


def dev(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    }
    env["DATABASE_URL"] = f"sqlite:///{database}"
    return subprocess.run(
        [sys.executable, "-c", RUN_DEV, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dev_manage_runs_audit_verify_with_debug_as_serve_does(tmp_path: Path) -> None:
    database = tmp_path / "dev.sqlite3"
    assert dev("manage", "migrate", "--noinput", database=database).returncode == 0
    verified = dev("manage", "audit_verify", database=database)
    assert verified.returncode == 0, verified.stderr
    assert "Audit chain intact: 0 entries verified." in verified.stdout


def test_manage_py_alone_without_debug_or_secret_key_says_what_is_missing(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    bare = subprocess.run(
        [sys.executable, "manage.py", "audit_verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bare.returncode != 0 and "SECRET_KEY is not set" in bare.stderr

#!/usr/bin/env python3
"""Set up and run Connector Dashboard on a development machine: `python3 dev.py serve|test|manage`.

Needs only Python 3.11+. Creates `.venv/`, installs the project with its dev extras (again only
when pyproject.toml changed), then serves the dashboard on the sandbox tenant or runs the suite.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed-pyproject-sha256"


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    completed = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def ensure_environment() -> None:
    # dev.py itself may be started by an older interpreter: say so instead of failing later.
    if sys.version_info < (3, 11):  # noqa: UP036
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv/ …", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except (OSError, subprocess.CalledProcessError) as exc:
            sys.exit(
                f"Could not create .venv/ ({exc}). Python's venv module with pip is needed: "
                "on Debian and Ubuntu, install the python3-venv package."
            )
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print("Installing the project and its dependencies …", flush=True)
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        STAMP.write_text(wanted)


def serve(extra: list[str]) -> None:
    env = {**os.environ}
    env.setdefault("DEBUG", "1")
    address = extra[0] if extra else "127.0.0.1:8000"
    run(PYTHON, "manage.py", "migrate", "--noinput", env=env)
    if "ENTRA_CLIENT_ID" not in env:
        run(PYTHON, "manage.py", "sandbox_seed", env=env)
    print(f"\nConnector Dashboard: open http://{address}/ in a browser.\n", flush=True)
    run(PYTHON, "manage.py", "runserver", address, env=env)


def manage(extra: list[str]) -> None:
    """A management command against the development database, as `serve` runs (DEBUG=1)."""
    env = {**os.environ}
    env.setdefault("DEBUG", "1")
    run(PYTHON, "manage.py", *extra, env=env)


def test(extra: list[str]) -> None:
    run(PYTHON, "-m", "pytest", *extra)


def main() -> None:
    commands = {"serve": serve, "test": test, "manage": manage}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(
            "usage: python3 dev.py serve [address:port] | test [pytest arguments]"
            " | manage <command> [arguments]"
        )
    ensure_environment()
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()

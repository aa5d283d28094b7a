#!/usr/bin/env python3
"""Set up and run Connector Dashboard on a development machine: `python3 dev.py serve|test|manage`.

Needs only Python 3.11+. Creates `.venv/`, installs the project with its dev extras (again only
when pyproject.toml changed), then serves the dashboard on the sandbox tenant or runs the suite.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
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
    """Migrate, seed the sandbox, then the web server with a Celery worker and beat beside it
    (child processes, stopped with it). Without REDIS_URL the broker is kombu's filesystem
    transport in DATA_DIR/broker/: nothing else to install or start."""
    env = {**os.environ}
    env.setdefault("DEBUG", "1")
    address = extra[0] if extra else "127.0.0.1:8000"
    run(PYTHON, "manage.py", "migrate", "--noinput", env=env)
    if "ENTRA_CLIENT_ID" not in env:
        run(PYTHON, "manage.py", "sandbox_seed", env=env)
    data_dir = Path(env.get("DATA_DIR") or ROOT / "var")
    logs = data_dir / "log"
    logs.mkdir(parents=True, exist_ok=True)
    # SIGTERM (not only Ctrl-C) stops the worker and beat too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, args in {
            "worker": ["worker", "--loglevel", "INFO", "--concurrency", "2", "-n", "worker@%h"],
            "beat": ["beat", "--loglevel", "INFO"],
        }.items():
            log = logs / f"{name}.log"
            children[name] = start(env, "-m", "celery", "-A", "dashboard", *args, log=log)
        broker = env.get("CELERY_BROKER_URL") or env.get("REDIS_URL")
        print(
            f"\nConnector Dashboard: open http://{address}/ in a browser.\n"
            f"  The watch's page:  http://{address}/watch/\n"
            f"  Celery worker:     pid {children['worker'].pid}, log {logs / 'worker.log'}\n"
            f"  Celery beat:       pid {children['beat'].pid}, log {logs / 'beat.log'}\n"
            f"  Broker:            "
            + (
                "Redis (REDIS_URL)"
                if broker
                else f"filesystem transport in {data_dir / 'broker'} (set REDIS_URL for Redis)"
            )
            + "\n  The worker and beat stop with the web server (Ctrl-C).\n",
            flush=True,
        )
        children["web"] = start(env, "manage.py", "runserver", address)
        code = children["web"].wait()
        if code:
            sys.exit(code)
    except KeyboardInterrupt:
        pass
    finally:
        stop(list(children.values()))


def start(env: dict[str, str], *args: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    """A child in a process group of its own (so stopping it stops its own children: the
    autoreloader's server, the worker's pool), its output appended to `log` if given."""
    output = log.open("ab") if log else None
    try:
        return subprocess.Popen(
            [str(PYTHON), *args],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,
        )
    finally:
        if output:
            output.close()


def stop(children: list[subprocess.Popen[bytes]], timeout: float = 15) -> None:
    """SIGTERM to each child at once (Celery's warm shutdown: it stops its own pool), then to
    whatever is left of its group (the autoreloader's server); SIGKILL if one lingers."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if hasattr(os, "killpg"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGTERM)


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

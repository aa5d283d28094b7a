"""`python3 dev.py serve` on a fresh machine: no Redis, yet a Celery worker and beat run beside
the web server (the filesystem transport in DATA_DIR), and stop with it."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _until(condition, seconds: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if value := condition():
                return value
        except (requests.RequestException, sqlite3.Error):
            pass
        time.sleep(0.3)
    raise AssertionError(f"Not within {seconds} s: {what}")


def test_serve_runs_a_worker_and_beat_beside_the_web_server_with_no_redis(tmp_path: Path) -> None:
    address = f"127.0.0.1:{_free_port()}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    }
    env.update({"DATA_DIR": str(tmp_path), "WATCH_HEARTBEAT_SECONDS": "1"})
    # dev.py's serve() with this interpreter (its setup step would build a .venv of its own).
    script = (
        "import dev, pathlib, sys; dev.PYTHON = pathlib.Path(sys.executable); "
        f"dev.serve([{address!r}])"
    )
    dev = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        health = _until(
            lambda: requests.get(f"http://{address}/healthz", timeout=2).json(), 90, "/healthz"
        )
        assert health == {"status": "ok", "database": "ok", "broker": "ok"}
        database = sqlite3.connect(tmp_path / "dashboard.sqlite3")
        worker, status = _until(
            lambda: database.execute(
                "SELECT worker, status FROM watch_taskrun WHERE schedule = 'watch heartbeat'"
            ).fetchone(),
            30,
            "a heartbeat sent by beat and run by the worker",
        )
        database.close()
        assert worker.startswith("worker@") and status in {"running", "succeeded"}
        assert (tmp_path / "broker" / "queue").is_dir()
    finally:
        dev.send_signal(signal.SIGTERM)
        output = dev.communicate(timeout=60)[0].decode()
    pids = [int(pid) for pid in re.findall(r"pid (\d+), log", output)]
    assert len(pids) == 2, output
    assert f"filesystem transport in {tmp_path / 'broker'}" in output
    _until(lambda: not any(_alive(pid) for pid in pids), 10, "the worker and beat to stop")

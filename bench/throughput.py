"""Benchmark the dashboard's own CPU per request under gunicorn, as ratios to a bare view.

Run: `.venv/bin/python bench/throughput.py [--tree PATH [--tree PATH]] [--connectors 1000]
[--rounds 5]`. `--tree` is a source tree whose dashboard runs (default: the one this file lives
in); with two, both run at once and take turns in every round, and the second is compared with
the first, so load on the machine weighs on both alike. The bench imports
nothing from a tree: it drives it only through `manage.py`, its environment settings and URLs.

In a throw-away temporary directory it, for each tree:
  1. migrates a sandbox tenant, seeds `--connectors` Exchange connectors (`sandbox_seed`) and
     starts `manage.py sandbox_serve` in its own process (HTTPS on loopback, a generated CA);
  2. migrates a dashboard database, runs `collectstatic` (into the tree's `staticfiles/`, as a
     deployment does) and starts gunicorn with 2 sync workers and production settings (DEBUG off,
     SECRET_KEY, ENTRA_* / GRAPH_BASE_URL / OUTBOUND_CA_BUNDLE as `sandbox_serve` prints them);
  3. signs admin@sandbox.example in through the real flow (the dashboard's MSAL redirect, the
     sandbox's authorize form over TLS, the callback) to get a session cookie;
  4. in rounds (endpoint order reversed every other round), sends a batch of requests to each
     endpoint, each next to a batch of the bare view, and reads the gunicorn workers' CPU time
     (`/proc/<pid>/task/*/schedstat`, in ns) before and after: CPU per request of the workers
     only — not this client, not the sandbox answering the dashboard's Graph calls (its CPU is
     shown apart). The ratio is taken batch by batch to the bare view beside it; medians.
The endpoints: `/healthz` (the bare view every ratio is taken to), the Exchange list page, the
same list as an htmx request (`HX-Request: true`, the partial) and the API's list.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "admin@sandbox.example"
CLIENT_ID = "sandbox-dashboard"  # sandbox_serve accepts any client id
BARE = "/healthz"
LIST = "/exchange-connectors/"
# Settings of the developer's shell that must not reach the children (their own database, cache,
# tenant, injected faults; requests' CA override, which would replace the sandbox CA).
INHERITED_NOT = (
    "DATABASE_URL",
    "REDIS_URL",
    "ENTRA_CLIENT_ID",
    "ENTRA_TENANT_ID",
    "ENTRA_CLIENT_SECRET",
    "ENTRA_AUTHORITY",
    "GRAPH_BASE_URL",
    "OUTBOUND_CA_BUNDLE",
    "SANDBOX_FAULTS",
    "SANDBOX_MODE",
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "ALLOWED_HOSTS",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PYTHONPATH",
)


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    headers: dict[str, str]
    per_batch: int  # requests per round
    marker: str  # text a correct answer contains


@dataclass
class Samples:
    cpu: list[float] = field(default_factory=list)  # workers' CPU seconds per request, per round
    wall: list[float] = field(default_factory=list)  # client wall seconds per request, per round
    sandbox_cpu: list[float] = field(default_factory=list)  # sandbox_serve's, per request
    ratios: list[float] = field(default_factory=list)  # CPU per request / the bare view's beside it


def endpoints(per_batch: int, bare_per_batch: int) -> list[Endpoint]:
    return [
        Endpoint(f"GET {BARE} (bare view)", BARE, {}, bare_per_batch, '"status"'),
        Endpoint(f"GET {LIST} (full page)", LIST, {}, per_batch, 'data-testid="row"'),
        Endpoint(
            f"GET {LIST} (htmx partial)",
            LIST,
            {"HX-Request": "true"},
            per_batch,
            'data-testid="row"',
        ),
        Endpoint(
            "GET /api/v1/exchange-connectors/",
            "/api/v1/exchange-connectors/",
            {"Accept": "application/json"},
            per_batch,
            '"serverName"',
        ),
    ]


# -- processes -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_env(tree: Path, data_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in INHERITED_NOT}
    env.update(
        {
            "PYTHONPATH": str(tree),
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": secrets.token_urlsafe(50),
            # Production settings refuse to start without it (trees before issue 12 ignore it).
            "AUDIT_CHAIN_KEY": secrets.token_urlsafe(32),
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def manage(tree: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def wait_for_exports(child: subprocess.Popen[bytes], log: Path) -> dict[str, str]:
    """The `export NAME=VALUE` lines `sandbox_serve` prints to point a dashboard at it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        exports = dict(re.findall(r"^\s*export (\w+)=(\S+)\s*$", text, re.M))
        if {"ENTRA_AUTHORITY", "GRAPH_BASE_URL", "OUTBOUND_CA_BUNDLE"} <= exports.keys():
            return exports
        if child.poll() is not None:
            raise SystemExit(f"sandbox_serve exited with {child.returncode}:\n{text}")
        time.sleep(0.2)
    raise SystemExit(f"sandbox_serve printed no settings in time:\n{log.read_text()}")


def start_sandbox(
    tree: Path, data_dir: Path, connectors: int
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    env = base_env(tree, data_dir)  # no ENTRA_CLIENT_ID: the sandbox tenant itself
    env["SANDBOX_MODE"] = "1"  # newer trees refuse sandbox mode without DEBUG unless asked
    manage(tree, env, "migrate", "--verbosity", "0")
    manage(
        tree,
        env,
        "sandbox_seed",
        "--exchange",
        str(connectors),
        "--app-proxy",
        "0",
        "--groups",
        "0",
        "--audit-events",
        "0",
    )
    log = data_dir / "sandbox_serve.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, "manage.py", "sandbox_serve", "--port", str(free_port()), "--quiet"],
            cwd=tree,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return child, wait_for_exports(child, log)


def start_dashboard(
    tree: Path, data_dir: Path, sandbox: dict[str, str], wsgi: str
) -> tuple[subprocess.Popen[bytes], str]:
    env = base_env(tree, data_dir)
    env.update(sandbox)  # ENTRA_CLIENT_ID, ENTRA_TENANT_ID, ENTRA_AUTHORITY, GRAPH_BASE_URL, CA
    env.update(
        {
            "ENTRA_CLIENT_ID": CLIENT_ID,
            "ENTRA_CLIENT_SECRET": secrets.token_urlsafe(16),
            "ALLOWED_HOSTS": "127.0.0.1",
            # Plain HTTP on loopback stands in for the TLS-terminating proxy in front.
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "SECURE_HSTS_SECONDS": "0",
        }
    )
    manage(tree, env, "migrate", "--verbosity", "0")
    manage(tree, env, "collectstatic", "--noinput", "--verbosity", "0")
    port = free_port()
    log = data_dir / "gunicorn.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", wsgi, "--workers", "2", "--worker-class", "sync"]
            + ["--bind", f"127.0.0.1:{port}", "--timeout", "120"],
            cwd=tree,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    origin = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"gunicorn exited with {child.returncode}:\n{log.read_text()}")
        try:
            if requests.get(f"{origin}{BARE}", timeout=5).status_code == 200:
                return child, origin
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the dashboard did not answer {BARE} in time:\n{log.read_text()}")


def stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


# -- CPU of processes (Linux /proc) ----------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == master:
                pids.append(int(entry.name))
    return sorted(pids)


def on_cpu_seconds(pids: Sequence[int]) -> float:
    """Time the processes' live threads ran, in ns resolution (schedstat's first field)."""
    total = 0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def tick_seconds(pids: Sequence[int]) -> float:
    """utime + stime, in clock ticks: coarse, but counting threads that already ended."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


# -- sign-in and measuring -------------------------------------------------------------------------


def sign_in(origin: str, ca_file: str) -> requests.Session:
    """The real flow: the dashboard's redirect, the sandbox's authorize form, the callback.

    Two cookie jars: cookies ignore ports, and the sandbox's session cookie on 127.0.0.1 would
    replace the dashboard's (a browser would meet the two on different host names)."""
    browser, idp = requests.Session(), requests.Session()
    start = browser.get(
        f"{origin}/auth/sign-in/", params={"next": LIST}, allow_redirects=False, timeout=30
    )
    assert start.status_code == 302, (start.status_code, start.text[:500])
    authorize_url = start.headers["Location"]
    # verify= per request: REQUESTS_CA_BUNDLE in the environment would override session.verify.
    form = idp.get(authorize_url, verify=ca_file, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token, form.text[:500]
    chosen = idp.post(
        authorize_url,
        data={"csrfmiddlewaretoken": token.group(1), "username": ADMIN},
        headers={"Referer": authorize_url},
        allow_redirects=False,
        verify=ca_file,
        timeout=30,
    )
    assert chosen.status_code == 302, (chosen.status_code, chosen.text[:500])
    callback = browser.get(chosen.headers["Location"], allow_redirects=False, timeout=60)
    assert callback.status_code == 302, (callback.status_code, callback.text[:500])
    return browser


def served_at(browser: requests.Session, origin: str, path: str) -> str:
    """Where a tree serves `path`: itself, or where it redirects to (since issue 14 the
    tenant-scoped pages live under `/t/<tenant>/` and the old URLs redirect there)."""
    response = browser.get(f"{origin}{path}", allow_redirects=False, timeout=120)
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302) and location.startswith("/"):
        return location
    return path


def send(running: Running, endpoint: Endpoint) -> None:
    path = running.paths.setdefault(
        endpoint.path, served_at(running.browser, running.origin, endpoint.path)
    )
    response = running.browser.get(
        f"{running.origin}{path}", headers=endpoint.headers, allow_redirects=False, timeout=120
    )
    if response.status_code != 200 or endpoint.marker not in response.text:
        raise SystemExit(
            f"{endpoint.name}: {response.status_code}, not the expected answer:\n"
            f"{response.text[:800]}"
        )


@dataclass
class Running:
    """One tree's dashboard and sandbox, up and signed in."""

    tree: Path
    dashboard: subprocess.Popen[bytes]
    sandbox: subprocess.Popen[bytes]
    origin: str
    browser: requests.Session
    workers: list[int] = field(default_factory=list)
    samples: dict[str, Samples] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)  # the path each endpoint is served at


def start(tree: Path, data: Path, args: argparse.Namespace, stack: ExitStack) -> Running:
    began = time.perf_counter()
    sandbox, exports = start_sandbox(tree, data / "sandbox", args.connectors)
    stack.callback(stop, sandbox)
    dashboard, origin = start_dashboard(tree, data / "dashboard", exports, args.wsgi)
    stack.callback(stop, dashboard)
    browser = sign_in(origin, exports["OUTBOUND_CA_BUNDLE"])
    print(
        f"{tree}: {args.connectors:,} connectors seeded, sandbox_serve and gunicorn up, "
        f"{ADMIN} signed in ({time.perf_counter() - began:.0f} s)",
        flush=True,
    )
    return Running(tree, dashboard, sandbox, origin, browser)


def warm_up(running: Running, targets: list[Endpoint]) -> None:
    """Unmeasured: each worker's first requests import and compile (lazy app loading)."""
    for endpoint in targets:
        for _ in range(3):
            send(running, endpoint)
    running.workers = worker_pids(running.dashboard.pid)
    if len(running.workers) != 2:
        raise SystemExit(f"{running.tree}: expected 2 gunicorn workers, found {running.workers}")
    running.samples = {endpoint.name: Samples() for endpoint in targets}


def batch(running: Running, endpoint: Endpoint) -> float:
    """Worker CPU seconds per request over one batch of `endpoint` (and wall, sandbox CPU)."""
    workers, sandbox = running.workers, [running.sandbox.pid]
    cpu, sandbox_cpu = on_cpu_seconds(workers), tick_seconds(sandbox)
    started = time.perf_counter()
    for _ in range(endpoint.per_batch):
        send(running, endpoint)
    wall = time.perf_counter() - started
    cpu, sandbox_cpu = on_cpu_seconds(workers) - cpu, tick_seconds(sandbox) - sandbox_cpu
    measured = running.samples[endpoint.name]
    measured.cpu.append(cpu / endpoint.per_batch)
    measured.wall.append(wall / endpoint.per_batch)
    measured.sandbox_cpu.append(sandbox_cpu / endpoint.per_batch)
    return cpu / endpoint.per_batch


def measure(trees: list[Running], targets: list[Endpoint], rounds: int) -> None:
    """Each endpoint's batch next to a batch of the bare view (before it in even rounds, after it
    in odd ones, the endpoints' and the trees' order reversed too): a ratio from two batches
    seconds apart, so other work on the machine weighs on both alike; several trees take turns
    within each round."""
    bare, *others = targets
    for run in range(rounds):
        forward = run % 2 == 0
        for running in trees if forward else reversed(trees):
            for endpoint in others if forward else reversed(others):
                if forward:
                    bare_cpu, cpu = batch(running, bare), batch(running, endpoint)
                else:
                    cpu, bare_cpu = batch(running, endpoint), batch(running, bare)
                running.samples[endpoint.name].ratios.append(cpu / bare_cpu)
    for running in trees:
        if worker_pids(running.dashboard.pid) != running.workers:
            raise SystemExit(f"{running.tree}: a gunicorn worker restarted while measuring")
        running.samples[bare.name].ratios = [1.0] * len(running.samples[bare.name].cpu)


# -- report ----------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def spread(values: Sequence[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}"


def print_tree(running: Running, targets: list[Endpoint]) -> None:
    """Per endpoint: median worker CPU and wall per request, and the CPU ratio to the bare view
    batch beside each of its batches, median and spread."""
    width = max(len(endpoint.name) for endpoint in targets)
    print(f"\n{running.tree}")
    print(
        f"{'endpoint':<{width}}  {'req/batch':>9}  {'worker CPU/req':>14}  {'CPU ratio':>9}"
        f"  {'ratio min–max':>13}  {'wall/req':>10}  {'sandbox CPU/req':>15}"
    )
    print(f"{'-' * width}  {'-' * 9}  {'-' * 14}  {'-' * 9}  {'-' * 13}  {'-' * 10}  {'-' * 15}")
    for endpoint in targets:
        measured = running.samples[endpoint.name]
        print(
            f"{endpoint.name:<{width}}  {endpoint.per_batch:>9}"
            f"  {ms(statistics.median(measured.cpu)):>14}"
            f"  {statistics.median(measured.ratios):>8.2f}×  {spread(measured.ratios):>13}"
            f"  {ms(statistics.median(measured.wall)):>10}"
            f"  {ms(statistics.median(measured.sandbox_cpu)):>15}"
        )


def print_comparison(base: Running, other: Running, targets: list[Endpoint]) -> None:
    """The second tree against the first: worker CPU per request and CPU ratio to the bare view
    (medians of each, as in the tables above), and the change."""
    width = max(len(endpoint.name) for endpoint in targets)
    print(f"\n{other.tree} vs {base.tree}")
    print(
        f"{'endpoint':<{width}}  {'worker CPU/req':>21}  {'change':>7}"
        f"  {'CPU ratio':>17}  {'change':>7}"
    )
    print(f"{'-' * width}  {'-' * 21}  {'-' * 7}  {'-' * 17}  {'-' * 7}")
    for endpoint in targets:
        before, after = base.samples[endpoint.name], other.samples[endpoint.name]
        cpu = statistics.median(before.cpu), statistics.median(after.cpu)
        ratio = statistics.median(before.ratios), statistics.median(after.ratios)
        print(
            f"{endpoint.name:<{width}}  {f'{ms(cpu[0])} → {ms(cpu[1])}':>21}"
            f"  {cpu[1] / cpu[0]:>6.2f}×  {f'{ratio[0]:.2f}× → {ratio[1]:.2f}×':>17}"
            f"  {ratio[1] / ratio[0]:>6.2f}×"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tree",
        type=Path,
        action="append",
        help="source tree of a dashboard (default: this one); give two to compare them in turn",
    )
    parser.add_argument("--wsgi", default="dashboard.wsgi", help="the trees' WSGI module")
    parser.add_argument("--connectors", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3, help="requests per batch of the others")
    parser.add_argument("--bare-requests", type=int, default=50, help="/healthz per batch")
    args = parser.parse_args(argv)
    trees = [tree.resolve() for tree in args.tree or [ROOT]]
    for tree in trees:
        if not (tree / "manage.py").is_file():
            raise SystemExit(f"{tree} has no manage.py")
    targets = endpoints(args.requests, args.bare_requests)

    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="throughput-bench-") as temp, ExitStack() as stack:
        running = [start(tree, Path(temp) / str(n), args, stack) for n, tree in enumerate(trees)]
        for each in running:
            warm_up(each, targets)
        workers = [pid for each in running for pid in each.workers]
        ticks, cpu = tick_seconds(workers), on_cpu_seconds(workers)
        measure(running, targets, args.rounds)
        ticks, cpu = tick_seconds(workers) - ticks, on_cpu_seconds(workers) - cpu
    for each in running:
        print_tree(each, targets)
    for other in running[1:]:
        print_comparison(running[0], other, targets)
    print(
        f"\n{args.connectors:,} Exchange connectors; gunicorn 2 sync workers and sandbox_serve in "
        f"its own process per tree; {args.rounds} rounds (orders reversed every other round), "
        "medians; worker CPU from schedstat; CPU ratio: to the bare view's batch beside it"
    )
    print(
        f"workers' CPU while measuring: {cpu:.2f} s by schedstat, {ticks:.2f} s by utime+stime "
        f"(which also counts ended threads); whole run {time.perf_counter() - began:.0f} s"
    )


if __name__ == "__main__":
    main()

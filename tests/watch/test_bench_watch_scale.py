"""`bench/watch_scale.py --quick` runs end to end, so the benchmark does not rot.

Its figures are not judged here (timing lives in bench/, as ratios); what is checked is what
does not depend on the machine: every sweep done, the fewest Graph calls, no tenant over budget.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BENCH = Path(settings.BASE_DIR) / "bench" / "watch_scale.py"


def test_the_quick_bench_sweeps_every_tenant_in_two_calls_within_budget() -> None:
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "5 tenants:" in out and "20 tenants:" in out
    assert out.count("sweeps not done: 0") == 2
    assert out.count("Graph calls per tenant: 2.00 (most 2) vs the minimum 2") == 2
    assert "peak RSS, 20 vs 5 tenants:" in out
    assert "no tenant over its throttling budget: yes" in out

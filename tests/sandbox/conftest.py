"""Fixtures for the sandbox's tests: the sandbox served over real TLS sockets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import server


@pytest.fixture(scope="session")
def sandbox_certificate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox-tls")


@pytest.fixture
def sandbox_server(
    transactional_db: None, sandbox_certificate_dir: Path
) -> Iterator[server.RunningSandbox]:
    """`sandbox_serve` in a background thread on a free port.

    transactional_db: the server's threads use their own database connections, so they see only
    what the test committed.
    """
    running = server.start(certificate_dir=sandbox_certificate_dir)
    yield running
    running.stop()

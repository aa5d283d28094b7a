"""The watch's system checks: its keys in production, and its timeouts."""

from __future__ import annotations

from tests.dashboard.test_security import PRODUCTION_ENV, manage


def test_check_deploy_fails_without_encryption_keys_of_your_own() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "WATCH_ENCRYPTION_KEYS"}

    result = manage("check", "--deploy", env=env)

    assert result.returncode != 0
    assert "watch.E010" in result.stdout + result.stderr


def test_a_malformed_key_and_timeouts_out_of_order_are_errors() -> None:
    env = {
        **PRODUCTION_ENV,
        "WATCH_ENCRYPTION_KEYS": "not-a-fernet-key",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "WATCH_TASK_TIME_LIMIT_SECONDS": "900",
        "WATCH_VISIBILITY_TIMEOUT_SECONDS": "600",
        "GRAPH_BACKGROUND_DEADLINE_SECONDS": "900",
    }

    output = manage("check", env=env)

    assert output.returncode != 0
    text = output.stdout + output.stderr
    assert "watch.E001" in text and "key 1 is not a Fernet key" in text
    assert "watch.E002" in text
    assert "watch.E003" in text

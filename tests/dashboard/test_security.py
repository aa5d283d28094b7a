"""Production settings, the secrets a session holds, and the headers every page carries."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from kernel import identity
from tests.conftest import ADMIN, sign_in

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": "k" * 20 + "-production-secret-key-with-enough-entropy-0123456789",
    "ENTRA_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
    "ENTRA_CLIENT_SECRET": "s3cret",
    "ENTRA_TENANT_ID": "contoso.onmicrosoft.com",
    "ALLOWED_HOSTS": "dashboard.contoso.com",
    "WATCH_ENCRYPTION_KEYS": "bvFHyaBzdwTVZ4tkjVNtqhnBrrW7lvgvSF9dIT4hwEA=",
    "AUDIT_CHAIN_KEY": "a" * 16 + "-production-audit-chain-key-0123456789",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The suite's own settings relax HTTPS through the environment: start from a clean slate.
    dropped = {
        "DEBUG",
        "SECRET_KEY",
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "SANDBOX_MODE",
        "ENTRA_CLIENT_ID",
    }
    clean = {
        k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("SECURE_")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_under_production_settings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_refuse_to_start_without_an_audit_chain_key() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "AUDIT_CHAIN_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "AUDIT_CHAIN_KEY is not set" in result.stderr


def test_development_key_only_with_debug() -> None:
    result = manage("check", env={"DEBUG": "1"})
    assert result.returncode == 0, result.stderr


SECRET_ONLY = {"SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"]}


def test_a_deployment_without_entra_settings_refuses_to_start() -> None:
    """No ENTRA_CLIENT_ID and no DEBUG: not silently the sandbox with its demo users."""
    result = manage("check", env=SECRET_ONLY)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "ENTRA_CLIENT_ID is not set" in result.stderr and "SANDBOX_MODE=1" in result.stderr


def test_sandbox_mode_can_be_asked_for_but_fails_the_deploy_check() -> None:
    assert manage("check", env={**SECRET_ONLY, "SANDBOX_MODE": "1"}).returncode == 0
    deploy = manage("check", "--deploy", env={**SECRET_ONLY, "SANDBOX_MODE": "1"})
    assert deploy.returncode != 0
    assert "sandbox.E001" in deploy.stderr and "Sandbox mode is on" in deploy.stderr
    # Nor may a deployment sign its audit log with the published development key.
    assert "audit.E001" in deploy.stderr


def test_debug_implies_sandbox_mode_unless_it_is_turned_off() -> None:
    assert manage("check", env={"DEBUG": "1"}).returncode == 0
    refused = manage("check", env={"DEBUG": "1", "SANDBOX_MODE": "0"})
    assert refused.returncode != 0 and "ENTRA_CLIENT_ID is not set" in refused.stderr


def test_sessions_are_server_side() -> None:
    assert settings.SESSION_ENGINE in {
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cache",
    }


@pytest.mark.django_db
def test_token_cache_is_in_neither_cookies_nor_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = sign_in(Client(), ADMIN)
    session = client.session
    token = identity.acquire_token(session, settings.GRAPH_SCOPES)
    cache_blob = session[identity.CACHE_KEY]
    assert token in cache_blob  # the cache really is in the server-side session
    assert set(client.cookies) <= {"sessionid", "csrftoken"}
    cookie_text = " ".join(morsel.value for morsel in client.cookies.values())
    assert "refresh_token" not in cookie_text.lower() and token not in cookie_text
    assert token not in caplog.text
    assert "refresh_token" not in caplog.text.lower()


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(admin_client: Client) -> None:
    response = admin_client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"
    body = response.content.decode()
    assert "<script>" not in body and " onclick=" not in body


@pytest.mark.django_db
def test_healthz_answers_without_sign_in() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_when_the_database_is_down() -> None:
    probe = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz'); print(r.status_code, r.content.decode())"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": "sqlite:////nonexistent-directory/dashboard.sqlite3",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.startswith("503 "), result.stdout + result.stderr
    assert '"database": "unreachable"' in result.stdout

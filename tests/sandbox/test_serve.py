"""`manage.py sandbox_serve`: the sandbox over real HTTPS sockets on loopback."""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from sandbox import faults, server
from sandbox.models import ExchangeConnector, SigningKey

TENANT = settings.SANDBOX_TENANT_ID
MANAGE = Path(settings.BASE_DIR) / "manage.py"


@pytest.fixture
def served_command(tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """The real command in its own process, on a free port, with its own data dir."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "ENTRA_CLIENT_ID", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DATA_DIR=str(tmp_path), SECRET_KEY="serve-test-" + "k" * 50, PYTHONUNBUFFERED="1")
    subprocess.run(
        [sys.executable, str(MANAGE), "migrate", "--noinput", "-v0"], env=env, check=True
    )
    process = subprocess.Popen(
        [sys.executable, str(MANAGE), "sandbox_serve", "--port", "0", "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "OUTBOUND_CA_BUNDLE" in line:
                break
        output = "".join(lines)
        exported = dict(re.findall(r"export (\w+)=(\S+)", output))
        yield exported, output
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_command_prints_what_a_dashboard_needs_and_serves_it(
    served_command: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    exported, output = served_command
    authority = exported["ENTRA_AUTHORITY"]
    graph_base = exported["GRAPH_BASE_URL"]
    ca_file = exported["OUTBOUND_CA_BUNDLE"]

    assert set(exported) == {
        "ENTRA_CLIENT_ID",
        "ENTRA_TENANT_ID",
        "ENTRA_AUTHORITY",
        "GRAPH_BASE_URL",
        "OUTBOUND_CA_BUNDLE",
    }
    assert re.fullmatch(rf"https://127\.0\.0\.1:\d+/{TENANT}", authority)
    assert exported["ENTRA_TENANT_ID"] == TENANT
    assert graph_base == authority.replace(f"/{TENANT}", "/beta")
    assert Path(ca_file).parent == tmp_path / "sandbox-tls"
    assert f"Authority:       {authority}" in output

    config = requests.get(
        f"{authority}/v2.0/.well-known/openid-configuration", verify=ca_file, timeout=10
    )
    assert config.status_code == 200
    # The issuer does not depend on the host serving it, as Entra's does not.
    assert config.json()["issuer"] == f"https://login.sandbox.localhost/{TENANT}/v2.0"
    assert config.json()["token_endpoint"] == f"{authority}/oauth2/v2.0/token"
    keys = requests.get(config.json()["jwks_uri"], verify=ca_file, timeout=10).json()["keys"]
    assert keys and keys[0]["kty"] == "RSA" and keys[0]["kid"]
    # Graph answers too, as Graph does to a caller with no token.
    graph = requests.get(f"{graph_base}/deviceManagement/exchangeConnectors", verify=ca_file)
    assert graph.status_code == 401
    assert graph.json()["error"]["code"] == "InvalidAuthenticationToken"


@pytest.mark.django_db
def test_a_port_in_use_is_a_clear_error(
    sandbox_certificate_dir: Path, tmp_path: Path, settings: Any
) -> None:
    settings.DATA_DIR = tmp_path
    running = server.start(certificate_dir=sandbox_certificate_dir)
    try:
        with pytest.raises(CommandError, match=f"127.0.0.1:{running.port}"):
            call_command("sandbox_serve", "--port", str(running.port))
    finally:
        running.stop()


@pytest.mark.django_db(transaction=True)
def test_a_restart_rebinds_its_port_at_once(sandbox_certificate_dir: Path) -> None:
    """The server closes each answered connection first, leaving it in TIME_WAIT for a minute:
    without SO_REUSEADDR the next bind of that port would fail ("Address already in use")."""
    first = server.start(certificate_dir=sandbox_certificate_dir)
    port = first.port
    try:
        for _ in range(3):
            answered = requests.get(
                f"{first.authority()}/v2.0/.well-known/openid-configuration",
                headers={"Connection": "close"},
                verify=str(first.ca_file),
            )
            assert answered.status_code == 200
    finally:
        first.stop()
    second = server.start(port=port, certificate_dir=sandbox_certificate_dir)
    try:
        assert second.port == port
        again = requests.get(
            f"{second.authority()}/v2.0/.well-known/openid-configuration",
            verify=str(second.ca_file),
        )
        assert again.status_code == 200
    finally:
        second.stop()


def test_openid_configuration_and_jwks_over_tls(
    sandbox_server: server.RunningSandbox,
) -> None:
    ca = str(sandbox_server.ca_file)
    authority = sandbox_server.authority()

    config = requests.get(f"{authority}/v2.0/.well-known/openid-configuration", verify=ca)
    keys = requests.get(config.json()["jwks_uri"], verify=ca).json()["keys"]

    assert config.json()["issuer"].startswith("https://login.sandbox.localhost/")
    assert config.json()["jwks_uri"].startswith(sandbox_server.origin)
    assert [key["kid"] for key in keys] == list(SigningKey.objects.values_list("kid", flat=True))


def test_the_certificate_is_trusted_only_through_its_ca(
    sandbox_server: server.RunningSandbox,
) -> None:
    url = f"{sandbox_server.authority()}/v2.0/.well-known/openid-configuration"
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, timeout=10)
    # The certificate names localhost as well as 127.0.0.1.
    by_name = url.replace("127.0.0.1", "localhost")
    assert requests.get(by_name, verify=str(sandbox_server.ca_file)).status_code == 200


def test_graph_over_tls_with_a_real_token(
    sandbox_server: server.RunningSandbox, graph_token: Callable[..., str]
) -> None:
    call_command("sandbox_seed", stdout=StringIO())
    client_request_id = str(uuid.uuid4())
    response = requests.get(
        f"{sandbox_server.graph_base_url}/deviceManagement/exchangeConnectors",
        params={"$top": 5},
        headers={
            "Authorization": f"Bearer {graph_token()}",
            "client-request-id": client_request_id,
        },
        verify=str(sandbox_server.ca_file),
    )

    assert response.status_code == 200
    assert len(response.json()["value"]) == 5
    assert response.json()["@odata.nextLink"].startswith(sandbox_server.graph_base_url)
    assert response.headers["client-request-id"] == client_request_id
    assert ExchangeConnector.objects.count() == 12


def test_a_jwt_library_fetches_the_signing_keys_over_tls(
    sandbox_server: server.RunningSandbox,
) -> None:
    ca = str(sandbox_server.ca_file)
    config = requests.get(
        f"{sandbox_server.authority()}/v2.0/.well-known/openid-configuration", verify=ca
    ).json()
    jwks = jwt.PyJWKClient(config["jwks_uri"], ssl_context=ssl.create_default_context(cafile=ca))
    assert [key.key_id for key in jwks.get_signing_keys()] == list(
        SigningKey.objects.values_list("kid", flat=True)
    )


class TestFaultsOverSockets:
    def test_a_dropped_connection_closes_the_socket(
        self, sandbox_server: server.RunningSandbox
    ) -> None:
        faults.install({"path": "/beta/*", "fault": "drop", "times": 1})
        url = f"{sandbox_server.graph_base_url}/deviceManagement/exchangeConnectors"
        with pytest.raises(requests.ConnectionError):
            requests.get(url, verify=str(sandbox_server.ca_file), timeout=10)
        # The server lives on: the next request is answered.
        assert requests.get(url, verify=str(sandbox_server.ca_file)).status_code == 401

    def test_a_delay_really_sleeps(self, sandbox_server: server.RunningSandbox) -> None:
        faults.install({"path": "/beta/*", "fault": "delay", "seconds": 1, "times": 1})
        started = time.monotonic()
        response = requests.get(
            f"{sandbox_server.graph_base_url}/deviceManagement/exchangeConnectors",
            verify=str(sandbox_server.ca_file),
            timeout=30,
        )
        assert time.monotonic() - started >= 1
        assert response.status_code == 401

    def test_a_delay_beyond_the_client_timeout_is_a_read_timeout(
        self, sandbox_server: server.RunningSandbox
    ) -> None:
        faults.install({"path": "/beta/*", "fault": "delay", "seconds": 3, "times": 1})
        with pytest.raises(requests.ReadTimeout):
            requests.get(
                f"{sandbox_server.graph_base_url}/deviceManagement/exchangeConnectors",
                verify=str(sandbox_server.ca_file),
                timeout=(10, 0.5),
            )

    def test_error_and_malformed_faults_and_the_control_endpoint(
        self, sandbox_server: server.RunningSandbox
    ) -> None:
        ca = str(sandbox_server.ca_file)
        control = f"{sandbox_server.origin}/_sandbox/faults"
        auth = {"Authorization": f"Bearer {settings.SANDBOX_FAULTS_TOKEN}"}
        created = requests.post(
            control,
            headers=auth,
            json=[
                {"path": "/beta/*", "fault": "429", "retry_after": 2, "times": 1},
                {"path": "/beta/*", "fault": "malformed", "times": 1},
            ],
            verify=ca,
        )
        assert created.status_code == 201
        url = f"{sandbox_server.graph_base_url}/deviceManagement/auditEvents"
        client_request_id = str(uuid.uuid4())

        throttled = requests.get(url, headers={"client-request-id": client_request_id}, verify=ca)
        malformed = requests.get(url, verify=ca)

        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "2"
        assert throttled.json()["error"]["innerError"]["client-request-id"] == client_request_id
        assert malformed.status_code == 200
        with pytest.raises(requests.JSONDecodeError):
            malformed.json()
        listed = requests.get(control, headers=auth, verify=ca).json()["value"]
        hits = [rule["hits"] for rule in listed]
        assert hits == [1, 1]

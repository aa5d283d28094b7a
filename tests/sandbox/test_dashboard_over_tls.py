"""The dashboard pointed at `sandbox_serve` by its settings works as it does in-process: real
MSAL sign-in and real Graph calls over TLS sockets, trusting the printed CA file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from graph.outbound import outbound_session
from sandbox import server
from tests.conftest import HomeTenantClient
from tests.sandbox import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dashboard_on_served_sandbox(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[server.RunningSandbox]:
    running = server.start(certificate_dir=tmp_path / "tls")
    # As the environment variables `sandbox_serve` prints would set them.
    settings.ENTRA_AUTHORITY = running.authority()
    settings.GRAPH_BASE_URL = running.graph_base_url
    settings.OUTBOUND_CA_BUNDLE = str(running.ca_file)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    outbound_session.cache_clear()
    yield running
    running.stop()
    outbound_session.cache_clear()


def test_sign_in_and_the_exchange_list_over_tls(dashboard_on_served_sandbox) -> None:
    served = dashboard_on_served_sandbox
    factories.exchange_connector(server_name="EXCH-TLS01.contoso.local")
    client = HomeTenantClient()
    authorize_url = client.get("/auth/sign-in/")["Location"]
    assert authorize_url.startswith(served.origin)  # the browser goes to the served sign-in page

    browser = requests.Session()
    browser.verify = str(served.ca_file)
    page = browser.get(authorize_url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    chosen = browser.post(
        authorize_url,
        data={"csrfmiddlewaretoken": token.group(1), "username": "admin@sandbox.example"},
        headers={"Referer": authorize_url},
        allow_redirects=False,
    )
    callback = chosen.headers["Location"]
    assert "code" in parse_qs(urlsplit(callback).query)

    signed_in = client.get(callback)  # the dashboard redeems the code over TLS
    assert signed_in.status_code == 302
    listing = client.get("/exchange-connectors/")
    assert listing.status_code == 200
    assert "EXCH-TLS01.contoso.local" in listing.content.decode()

"""Incremental consent: Directory.ReadWrite.All is asked for only when the App Proxy pages open."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from sandbox.models import Consent
from tests.conftest import ADMIN, HomeTenantClient, consent_to, sign_in
from tests.connectors.support import graph_calls
from tests.sandbox import factories

pytestmark = pytest.mark.django_db
DIRECTORY = "https://graph.microsoft.com/Directory.ReadWrite.All"


def test_sign_in_does_not_ask_for_the_directory_permission() -> None:
    client = HomeTenantClient()
    authorize = client.get("/auth/sign-in/")["Location"]
    assert "Directory" not in parse_qs(urlsplit(authorize).query)["scope"][0]
    sign_in(client, ADMIN)
    assert client.get("/exchange-connectors/").status_code == 200
    assert not Consent.objects.exists()


def _open_app_proxy(client: Client) -> str:
    """The App Proxy list sends a user without consent back through sign-in; its authorize URL."""
    response = client.get("/app-proxy/connectors/?view=groups")
    assert response.status_code == 302
    location = response["Location"]
    query = parse_qs(urlsplit(location).query)
    assert urlsplit(location).path == "/auth/sign-in/"
    assert query["next"] == ["/app-proxy/connectors/?view=groups"]
    assert query["scopes"] == [DIRECTORY]
    authorize = client.get(location)
    assert authorize.status_code == 302
    params = parse_qs(urlsplit(authorize["Location"]).query)
    assert DIRECTORY in params["scope"][0].split() and params["prompt"] == ["consent"]
    return authorize["Location"]


def test_first_visit_asks_for_consent_then_the_page_opens() -> None:
    factories.app_proxy_connector(machine_name="APPPROXY-A.contoso.local")
    client = sign_in(HomeTenantClient(), ADMIN)
    authorize = _open_app_proxy(client)
    # No Graph call was made with a token lacking the permission.
    assert graph_calls(contains="applicationProxy") == []

    screen = client.post(authorize, {"username": ADMIN})
    html = screen.content.decode()
    assert screen.status_code == 200 and "Permissions requested" in html
    assert "<code>Directory.ReadWrite.All</code>" in html and 'value="accept"' in html

    callback = client.post(authorize, {"username": ADMIN, "consent": "accept"})
    assert callback.status_code == 302 and "code=" in callback["Location"]
    back = client.get(callback["Location"])
    assert back["Location"] == "/app-proxy/connectors/?view=groups"
    page = client.get(back["Location"])
    assert page.status_code == 200 and "APPPROXY-A.contoso.local" in page.content.decode()
    assert Consent.objects.filter(upn=ADMIN, scope="Directory.ReadWrite.All").count() == 1

    # Consent is kept per user and application: a new session of the same user is not asked.
    again = sign_in(HomeTenantClient(), ADMIN)
    assert again.get("/app-proxy/connectors/").status_code == 200


def test_cancelling_the_consent_screen_is_a_clear_refusal_and_grants_nothing() -> None:
    client = sign_in(HomeTenantClient(), ADMIN)
    authorize = _open_app_proxy(client)
    client.post(authorize, {"username": ADMIN})
    refused = client.post(authorize, {"username": ADMIN, "cancel": "1"})
    assert "error=access_denied" in refused["Location"]
    page = client.get(refused["Location"])
    assert page.status_code == 400
    assert "AADSTS65004" in page.content.decode()
    assert not Consent.objects.exists()


def test_htmx_requests_are_sent_through_consent_with_hx_redirect() -> None:
    client = sign_in(HomeTenantClient(), ADMIN)
    response = client.get(
        "/app-proxy/connectors/?q=x",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/app-proxy/connectors/"},
    )
    assert response.status_code == 200
    target = response["HX-Redirect"]
    assert urlsplit(target).path == "/auth/sign-in/"
    assert parse_qs(urlsplit(target).query)["scopes"] == [DIRECTORY]


def test_the_sign_in_view_asks_only_for_permissions_the_dashboard_knows() -> None:
    client = HomeTenantClient()
    location = client.get("/auth/sign-in/", {"scopes": "https://graph.microsoft.com/Mail.Read"})[
        "Location"
    ]
    params = parse_qs(urlsplit(location).query)
    assert "Mail.Read" not in params["scope"][0] and params["prompt"] == ["select_account"]


def test_limited_is_refused_app_proxy_reads_by_graph_as_the_readme_says(signed_in_client) -> None:
    """Issue 13, item 11: limited@'s read-only Graph rights do not reach App Proxy even to read."""
    consent_to("limited@sandbox.example", [DIRECTORY])
    response = signed_in_client("limited@sandbox.example").get("/app-proxy/connectors/")
    assert response.status_code == 403
    assert "your account lacks Directory.ReadWrite.All" in response.content.decode()
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "on App Proxy reads and writes alike" in readme

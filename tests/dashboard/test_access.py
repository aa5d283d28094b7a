"""Who may reach what: sign-in required everywhere but the public paths, and dashboard roles."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from dashboard.models import User
from kernel.roles import Role, role_from_claims, role_required

pytestmark = pytest.mark.django_db

PUBLIC_PREFIXES = ("/healthz", "/auth/", "/sandbox/")


def every_url(patterns: list | None = None, prefix: str = "/") -> Iterator[str]:
    """A concrete URL for every pattern of the root URLconf (converters filled in)."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        pattern = re.sub(r"<int:\w+>", "1", str(entry.pattern))
        route = prefix + re.sub(r"<(?:\w+:)?\w+>", "x1", pattern).lstrip("^").rstrip("$")
        if isinstance(entry, URLResolver):
            yield from every_url(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def test_the_walk_sees_the_pages() -> None:
    urls = set(every_url())
    assert {"/", "/healthz", "/auth/sign-in/", "/auth/callback/", "/auth/sign-out/"} <= urls


@pytest.mark.parametrize("url", sorted(set(every_url())))
def test_every_page_but_the_public_ones_needs_sign_in(url: str) -> None:
    client = Client()
    response = client.get(url)
    htmx = client.get(url, headers={"HX-Request": "true"})
    if url.startswith(PUBLIC_PREFIXES):
        assert not response.get("Location", "").startswith("/auth/sign-in/?next=")
        assert "HX-Redirect" not in htmx
    elif url.startswith("/api/"):
        assert response.status_code == 401
        assert response.json()["message"]
        assert response["WWW-Authenticate"].startswith("Bearer")
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/auth/sign-in/?next=")
        assert htmx["HX-Redirect"].startswith("/auth/sign-in/?next=")


def test_htmx_redirect_returns_to_the_page_the_user_is_on() -> None:
    response = Client().get(
        "/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/?status=connected"},
    )
    assert response["HX-Redirect"] == "/auth/sign-in/?next=/%3Fstatus%3Dconnected"


def test_static_files_need_no_sign_in() -> None:
    response = Client().get("/static/dashboard/app.css")
    assert response.status_code == 200


def test_roles_rank_reader_operator_admin() -> None:
    assert Role.ADMIN.allows(Role.OPERATOR) and Role.OPERATOR.allows(Role.READER)
    assert not Role.READER.allows(Role.OPERATOR) and not Role.OPERATOR.allows(Role.ADMIN)


def test_role_comes_from_the_highest_role_claim() -> None:
    assert role_from_claims(["Dashboard.Reader", "Dashboard.Admin"]) is Role.ADMIN
    assert role_from_claims(["Something.Else"]) is Role.READER


def test_default_role_is_configurable(settings) -> None:
    settings.DEFAULT_ROLE = "Dashboard.Operator"
    assert role_from_claims([]) is Role.OPERATOR


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.READER, 403), (Role.OPERATOR, 200), (Role.ADMIN, 200)],
)
def test_role_required_refuses_lower_roles(role: Role, status: int) -> None:
    @role_required(Role.OPERATOR)
    def sync_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("synced")

    request = RequestFactory().post("/")
    request.user = User(oid=f"oid-{role}", upn="u@example", display_name="U", role=role)
    response = sync_view(request)
    assert response.status_code == status
    if status == 403:
        assert "needs the Operator role" in response.content.decode()

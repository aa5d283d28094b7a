"""What every page's shell needs: the mode and the navigation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from kernel.roles import Role
from kernel.tenancy import request_tenant

# Each page joins the navigation when it is built: (label, URL name).
NAVIGATION: list[tuple[str, str]] = [
    ("Overview", "overview"),
    ("Exchange connectors", "exchange:list"),
    ("App Proxy", "app_proxy:list"),
    ("Audit log", "audit:list"),
    ("Tenants", "tenants:list"),
    ("Watch", "watch:page"),
    ("Alerts", "watch:alerts"),
]


def shell(request: HttpRequest) -> dict[str, Any]:
    items = []
    tenant = request_tenant(request)
    # Within a tenant, its URLconf names its pages; the sandbox's own hosts render pages with
    # their own URLconf: name the dashboard's.
    urlconf = getattr(request, "urlconf", None) if tenant else settings.ROOT_URLCONF
    for label, url_name in NAVIGATION:
        url = reverse(url_name, urlconf=urlconf)
        current = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"label": label, "url": url, "current": current})
    # A page under two items (/watch/alerts/ under /watch/) is the longer one's.
    longest = max((len(item["url"]) for item in items if item["current"]), default=0)
    for item in items:
        item["current"] = item["current"] and len(item["url"]) == longest
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {
        "sandbox_mode": settings.SANDBOX_MODE,
        "navigation": items,
        # What the signed-in user's role allows; views enforce it, templates hide what it forbids.
        "can_operate": signed_in and user.has_role(Role.OPERATOR),
        "can_administer": signed_in and user.has_role(Role.ADMIN),
        "current_tenant": tenant,
    }

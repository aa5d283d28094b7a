"""What every page's shell needs: the mode and the navigation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

# Each page joins the navigation when it is built: (label, URL name).
NAVIGATION: list[tuple[str, str]] = [("Overview", "overview"), ("Audit log", "audit:list")]


def shell(request: HttpRequest) -> dict[str, Any]:
    return {
        "sandbox_mode": settings.SANDBOX_MODE,
        "navigation": NAVIGATION,
    }

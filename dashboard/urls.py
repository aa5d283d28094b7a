"""The dashboard's URLs (ARCHITECTURE.md lists the ones users and scripts rely on)."""

from __future__ import annotations

from django.conf import settings
from django.urls import include, path

from dashboard import auth_views, views

auth_patterns = (
    [
        path("sign-in/", auth_views.sign_in, name="sign-in"),
        path("callback/", auth_views.callback, name="callback"),
        path("sign-out/", auth_views.sign_out, name="sign-out"),
    ],
    "auth",
)

urlpatterns = [
    path("", views.overview, name="overview"),
    path("healthz", views.healthz, name="healthz"),
    path("auth/", include(auth_patterns)),
    path("api/", include(("dashboard.api_urls", "api"))),
    path("", include("connectors.urls")),
    path("audit/", include("audit.urls")),
    path("watch/", include("watch.urls")),
]

if settings.SANDBOX_MODE:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))

handler404 = "dashboard.views.not_found"

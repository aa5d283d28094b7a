"""The dashboard's URLs (ARCHITECTURE.md lists the ones users and scripts rely on).

Tenant-scoped pages live under `/t/<tenant>/` and the tenant-scoped API under
`/api/v1/tenants/<tenant>/` (`dashboard.tenant_urls` builds those for each tenant). Here, outside
any tenant, the connector pages and the Intune audit pages are today's URLs: the tenant routing
middleware redirects them to the home tenant's; the API's answer as before, for the home tenant.
"""

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

# The same in every tenant's URLconf.
shared_patterns = [
    path("", views.overview, name="overview"),
    path("healthz", views.healthz, name="healthz"),
    path("auth/", include(auth_patterns)),
    path("tenants/", include("tenants.urls")),
    path("watch/", include("watch.urls")),
]
if settings.SANDBOX_MODE:
    shared_patterns.append(path("sandbox/", include("sandbox.urls")))

urlpatterns = [
    *shared_patterns,
    path("api/", include(("dashboard.api_urls", "api"))),
    path("", include("connectors.urls")),
    path("audit/", include("audit.urls")),
]

handler404 = "dashboard.views.not_found"

"""Each managed tenant's URLconf: the site's shared URLs, its pages under `/t/<tenant>/` and its
API under `/api/v1/tenants/<tenant>/`.

The tenant routing middleware sets it as `request.urlconf`, so `reverse()` and `{% url %}`
name the tenant the request is in without any view or template passing it: links stay in their
tenant (two tabs, two tenants), and shared URLs (sign-in, tenants, overview) stay shared.
"""

from __future__ import annotations

import threading
from types import ModuleType

from django.urls import include, path

from dashboard import api_urls
from dashboard.urls import handler404, shared_patterns

_URLCONFS: dict[str, ModuleType] = {}
_LOCK = threading.Lock()


def _build(segment: str) -> ModuleType:
    urlconf = ModuleType(f"dashboard.tenant_urls[{segment}]")
    api_patterns = [
        path(f"v1/tenants/{segment}/", include(api_urls.v1)),
        path("v1/", include(api_urls.v1_outside_tenants)),
        *api_urls.documentation,
    ]
    urlconf.urlpatterns = [  # type: ignore[attr-defined]
        *shared_patterns,
        path("api/", include((api_patterns, "api"))),
        path(f"t/{segment}/", include("connectors.urls")),
        path(f"t/{segment}/audit/", include("audit.urls")),
        path(f"t/{segment}/watch/", include("watch.tenant_urls")),
        path(f"t/{segment}/watch/drift/", include("watch.drift_urls")),
        path(f"t/{segment}/watch/schedules/", include("watch.schedule_urls")),
    ]
    # The site's own error answers here too (Django reads them from the request's URLconf): an
    # unknown URL under the tenant's API is the API's JSON 404, not an HTML page.
    urlconf.handler404 = handler404  # type: ignore[attr-defined]
    return urlconf


def tenant_urlconf(segment: str) -> ModuleType:
    """The URLconf for a tenant as its URLs name it (one per tenant, per process)."""
    urlconf = _URLCONFS.get(segment)
    if urlconf is None:
        with _LOCK:
            urlconf = _URLCONFS.setdefault(segment, _build(segment))
    return urlconf

"""The reply URLs registered for the sandbox's app registrations, matched as Entra matches them.

Entra sends a browser back only to a redirect URI registered for the application: exactly, but
for a loopback host (`localhost`, `127.0.0.1`, `[::1]`), whose port it does not compare.
`SANDBOX_REDIRECT_URIS` lists them; authorize's `redirect_uri` and logout's
`post_logout_redirect_uri` must be one of them.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from django.conf import settings

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def _port(url: SplitResult) -> int | None:
    try:
        return url.port or DEFAULT_PORTS.get(url.scheme)
    except ValueError:
        return None


def _matches(requested: SplitResult, registered: SplitResult) -> bool:
    if (requested.scheme, requested.hostname, requested.path, requested.query) != (
        registered.scheme,
        registered.hostname,
        registered.path,
        registered.query,
    ):
        return False
    return registered.hostname in LOOPBACK_HOSTS or _port(requested) == _port(registered)


def is_registered(uri: str) -> bool:
    """Whether a browser may be sent to `uri` after sign-in or sign-out."""
    requested = urlsplit(uri)
    if requested.scheme not in DEFAULT_PORTS or requested.fragment or _port(requested) is None:
        return False
    return any(
        _matches(requested, urlsplit(registered)) for registered in settings.SANDBOX_REDIRECT_URIS
    )


def mismatch_message(uri: str, client_id: str = "") -> str:
    """Entra's AADSTS50011 sentence for a redirect URI that is not registered."""
    application = f" for the application '{client_id}'" if client_id else ""
    return (
        f"AADSTS50011: The redirect URI '{uri}' specified in the request does not match the "
        f"redirect URIs configured{application}. Make sure the redirect URI sent in the request "
        "matches one added to your application's registration (SANDBOX_REDIRECT_URIS)."
    )

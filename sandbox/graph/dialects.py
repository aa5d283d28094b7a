"""Graph's error dialects: who behind Graph wrote the error decides how its body reads.

- Graph's front door (token, unknown segment, method, media type, `$batch` envelope, throttling)
  and the directory (`onPremisesPublishingProfiles/…`) write a plain sentence in `message`, with
  the directory's codes (`Authorization_RequestDenied`, `Request_ResourceNotFound`, …).
- Intune (`deviceManagement/…`) writes `message` as a JSON string of its own: a `Message` sentence
  followed by " - Operation ID (for customer support): … - Activity ID: … - Url: … -
  CustomApiErrorPhrase: ", and the wrapper's other fields. Its 403 is code `Forbidden`, naming
  the scopes the application must have.

docs/graph-errors.md describes both for the dashboard's side.
"""

from __future__ import annotations

import json
from enum import StrEnum

from sandbox.graph.context import GraphRequest, new_guid

# Intune's front end behind Graph, as the `Url` part of its messages names it.
INTUNE_SERVICE_URL = "https://fef.sandbox.manage.localhost/StatelessServiceConfigurationFEService"
INTUNE_API_VERSION = "2026-01-15"


class Dialect(StrEnum):
    PLAIN = "plain"  # Graph's front door: a plain sentence
    DIRECTORY = "directory"  # Entra's directory: a plain sentence, Request_* codes
    INTUNE = "intune"  # Intune: a JSON wrapper in `message`, Operation ID and Activity ID


def dialect_for(path: str) -> Dialect:
    """The dialect of the service that serves `path` (relative to the version root)."""
    if path.lower().startswith("devicemanagement/"):
        return Dialect.INTUNE
    return Dialect.DIRECTORY


def permission_error(dialect: Dialect, permissions: tuple[str, ...]) -> tuple[str, str]:
    """(code, sentence) of the 403 a service writes when the token lacks every permission."""
    if dialect == Dialect.INTUNE:
        return (
            "Forbidden",
            "Application is not authorized to perform this operation. Application must have one "
            f"of the following scopes: {', '.join(permissions)}",
        )
    alternatives = " or ".join(permissions)
    return (
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation. "
        f"The delegated permission {alternatives} is required.",
    )


def intune_message(req: GraphRequest, sentence: str) -> str:
    """Intune's `message`: its JSON wrapper as a string, pretty-printed with CRLF as Intune does."""
    url = f"{INTUNE_SERVICE_URL}/{req.path}?api-version={INTUNE_API_VERSION}"
    wrapper = {
        "_version": 3,
        "Message": (
            f"{sentence} - Operation ID (for customer support): {new_guid()} - "
            f"Activity ID: {new_guid()} - Url: {url} - CustomApiErrorPhrase: "
        ),
        "CustomApiErrorPhrase": "",
        "RetryAfter": None,
        "ErrorSourceService": "",
        "HttpHeaders": "{}",
    }
    return json.dumps(wrapper, indent=2).replace("\n", "\r\n")

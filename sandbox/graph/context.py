"""One Graph request as the sandbox's dispatcher sees it, whether top-level or inside a $batch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


def new_guid() -> str:
    return str(uuid.uuid4())


@dataclass
class GraphRequest:
    """A request to `<base_url>/<path>`; `path` has no leading slash and no query string."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    base_url: str
    remote_addr: str = ""
    read_timeout: float | None = None
    # The outer $batch request's request-id when this request arrived inside a batch.
    batch_request_id: str = ""
    request_id: str = field(default_factory=new_guid)
    version: str = "beta"  # or "v1.0"
    claims: dict[str, Any] = field(default_factory=dict)
    # What the outer request established once for every request of its $batch, as Graph does:
    # the token's claims (validated once) and the caller's roles in the token's tenant.
    batch_claims: dict[str, Any] | None = None
    batch_facts: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.headers = {name.lower(): value for name, value in self.headers.items()}
        # Graph echoes the caller's id, or makes one up so every answer can be traced.
        self.client_request_id = self.headers.get("client-request-id") or new_guid()

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    @property
    def wire_path(self) -> str:
        """The path as Graph's clients write it, e.g. `/beta/deviceManagement/auditEvents`."""
        return f"/{self.version}/{self.path}"

    def url(self, path: str) -> str:
        """An absolute URL under this request's Graph version root."""
        return f"{self.base_url}/{path.lstrip('/')}"

    @property
    def request_url(self) -> str:
        query = f"?{self.query_string}" if self.query_string else ""
        return f"{self.url(self.path)}{query}"

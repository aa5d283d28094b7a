"""GraphClients for a user: from the session's MSAL cache, or On-Behalf-Of an API token."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase

from connectors.graph.client import GraphClient
from connectors.graph.errors import GraphAuthError
from connectors.graph.retry import RetryPolicy
from dashboard import identity


@dataclass(frozen=True)
class SessionTokenProvider:
    """Silent tokens for one session; none → GraphAuthError naming the scopes to sign in with."""

    session: SessionBase

    def __call__(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str:
        try:
            return identity.acquire_token(self.session, list(scopes), force_refresh=force_refresh)
        except identity.TokenUnavailable as exc:
            raise GraphAuthError(
                f"Sign in again to continue: {exc.reason}",
                scopes=list(exc.scopes),
                claims_challenge=exc.claims_challenge or "",
            ) from exc


def graph_client_for_session(
    session: SessionBase,
    *,
    scopes: Sequence[str] | None = None,
    base_url: str | None = None,
    retry: RetryPolicy | None = None,
) -> GraphClient:
    """The client services use for the signed-in user (`scopes` for incremental consent)."""
    return GraphClient(SessionTokenProvider(session), scopes=scopes, base_url=base_url, retry=retry)


@dataclass(frozen=True)
class OnBehalfOfTokenProvider:
    """Graph tokens for the user behind an API token, through MSAL's On-Behalf-Of flow."""

    oid: str
    assertion: str

    def __call__(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str:
        try:
            return identity.acquire_token_on_behalf_of(
                oid=self.oid,
                assertion=self.assertion,
                scopes=list(scopes),
                force_refresh=force_refresh,
            )
        except identity.TokenUnavailable as exc:
            raise GraphAuthError(
                f"No Graph token for this API token: {exc.reason}", scopes=list(exc.scopes)
            ) from exc


def graph_client_on_behalf_of(
    *, oid: str, assertion: str, scopes: Sequence[str] | None = None
) -> GraphClient:
    """The client the API uses for a bearer-token caller."""
    return GraphClient(OnBehalfOfTokenProvider(oid=oid, assertion=assertion), scopes=scopes)

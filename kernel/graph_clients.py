"""Graph clients for the user who asks: from the session's MSAL cache, or On-Behalf-Of an API
token. `graph_for(request)` is the one way a view gets one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from graph.client import GraphClient
from graph.errors import GraphAuthError
from graph.retry import RetryPolicy
from kernel import identity
from kernel.api_tokens import ApiCredential


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


def graph_for(request: HttpRequest, *, scopes: Sequence[str] | None = None) -> GraphClient:
    """The one way a view (page or API) gets Graph as the user who asks.

    A bearer-token API caller: On-Behalf-Of the token's user; otherwise the browser session's
    tokens. `scopes` beyond the sign-in's ask for incremental consent when not yet granted.
    """
    credential = getattr(request, "auth", None)
    if isinstance(credential, ApiCredential):
        return graph_client_on_behalf_of(
            oid=credential.claims["oid"], assertion=credential.token, scopes=scopes
        )
    return graph_client_for_session(request.session, scopes=scopes)

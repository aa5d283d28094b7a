"""Graph clients for the user who asks: from the session's MSAL cache, or On-Behalf-Of an API
token. `graph_for(request)` is the one way a view gets one."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from graph.client import GraphClient, TokenProvider
from graph.errors import GraphAuthError
from graph.retry import RetryPolicy
from kernel import identity
from kernel.api_tokens import ApiCredential
from kernel.tenancy import acting_tenant_id


@dataclass(frozen=True)
class SessionTokenProvider:
    """Silent tokens for one session in one tenant (home when None); none → GraphAuthError
    naming the scopes to sign in with. A tenant that refuses the user raises TenantRefused.
    `tokens`: the session's cache already held in memory (a fan-out), else read per call."""

    session: SessionBase
    tenant: str | None = None
    tokens: identity.SessionTokens | None = None

    def __call__(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str:
        try:
            if self.tokens is not None:
                return self.tokens.acquire(
                    list(scopes), tenant=self.tenant, force_refresh=force_refresh
                )
            return identity.acquire_token(
                self.session, list(scopes), tenant=self.tenant, force_refresh=force_refresh
            )
        except identity.TokenUnavailable as exc:
            raise GraphAuthError(
                f"Sign in again to continue: {exc.reason}",
                scopes=list(exc.scopes),
                claims_challenge=exc.claims_challenge or "",
            ) from exc


def graph_client_for_session(
    session: SessionBase,
    *,
    tenant: str | None = None,
    scopes: Sequence[str] | None = None,
    base_url: str | None = None,
    retry: RetryPolicy | None = None,
) -> GraphClient:
    """The client services use for the signed-in user in `tenant` (home when None); `scopes`
    for incremental consent."""
    return GraphClient(
        SessionTokenProvider(session, tenant), scopes=scopes, base_url=base_url, retry=retry
    )


@dataclass(frozen=True)
class OnBehalfOfTokenProvider:
    """Graph tokens for the user behind an API token, through MSAL's On-Behalf-Of flow."""

    oid: str
    assertion: str
    tenant: str | None = None

    def __call__(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str:
        try:
            return identity.acquire_token_on_behalf_of(
                oid=self.oid,
                assertion=self.assertion,
                scopes=list(scopes),
                tenant=self.tenant,
                force_refresh=force_refresh,
            )
        except identity.TokenUnavailable as exc:
            raise GraphAuthError(
                f"No Graph token for this API token: {exc.reason}", scopes=list(exc.scopes)
            ) from exc


def graph_client_on_behalf_of(
    *, oid: str, assertion: str, tenant: str | None = None, scopes: Sequence[str] | None = None
) -> GraphClient:
    """The client the API uses for a bearer-token caller, in `tenant` (home when None)."""
    provider = OnBehalfOfTokenProvider(oid=oid, assertion=assertion, tenant=tenant)
    return GraphClient(provider, scopes=scopes)


def graph_for(
    request: HttpRequest, *, tenant: str | None = None, scopes: Sequence[str] | None = None
) -> GraphClient:
    """The one way a view (page or API) gets Graph as the user who asks, in `tenant` (by
    default the tenant in the request's path, else the user's home tenant).

    Delegated always, never app-only: the user's own tokens, redeemed at the tenant's authority.
    A bearer-token API caller: On-Behalf-Of the token's user; otherwise the browser session's
    tokens. `scopes` beyond the sign-in's ask for incremental consent when not yet granted.
    """
    tenant = tenant or acting_tenant_id(request)
    credential = getattr(request, "auth", None)
    if isinstance(credential, ApiCredential):
        return graph_client_on_behalf_of(
            oid=credential.claims["oid"], assertion=credential.token, tenant=tenant, scopes=scopes
        )
    return graph_client_for_session(request.session, tenant=tenant, scopes=scopes)


@dataclass(frozen=True)
class _OneAtATime:
    """A token provider shared by threads: one token acquisition at a time, so the session's
    cache (and a rotated refresh token) is never read and written by two threads at once."""

    provider: TokenProvider
    lock: threading.Lock

    def __call__(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str:
        with self.lock:
            return self.provider(scopes, force_refresh=force_refresh)


@contextmanager
def graph_for_each_tenant(
    request: HttpRequest,
) -> Iterator[Callable[[str, Sequence[str] | None], GraphClient]]:
    """Clients for many tenants at once (a fan-out across threads), as `graph_for` builds them:
    the user's own tokens, redeemed at each tenant's authority from one token cache, held in
    memory for the fan-out and written back to the session once, at the end."""
    lock = threading.Lock()
    credential = getattr(request, "auth", None)
    tokens = (
        None if isinstance(credential, ApiCredential) else identity.SessionTokens(request.session)
    )

    def client_for(tenant: str, scopes: Sequence[str] | None = None) -> GraphClient:
        provider: TokenProvider
        if isinstance(credential, ApiCredential):
            provider = OnBehalfOfTokenProvider(
                oid=credential.claims["oid"], assertion=credential.token, tenant=tenant
            )
        else:
            provider = SessionTokenProvider(request.session, tenant, tokens)
        return GraphClient(_OneAtATime(provider, lock), scopes=scopes)

    try:
        yield client_for
    finally:
        if tokens is not None:
            tokens.save()

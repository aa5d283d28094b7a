"""Delegated sign-in with MSAL: the auth-code flow, the per-session token cache, silent tokens.

Views call these functions; nothing else in the dashboard talks to MSAL.
"""

from __future__ import annotations

import json
import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import msal
import requests
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache as django_cache

from graph.outbound import outbound_session

logger = logging.getLogger(__name__)

CACHE_KEY = "msal_token_cache"
FLOW_KEY = "msal_auth_flow"
ACCOUNT_KEY = "msal_account_id"
NEXT_KEY = "sign_in_next"

# Shared across requests so the authority's OpenID configuration is fetched once per process.
_HTTP_CACHE: dict[Any, Any] = {}
# One application per authority (the home tenant's, and each customer tenant's), per process.
_APPS: dict[str, msal.ConfidentialClientApplication] = {}
_APPS_LOCK = threading.Lock()
# The token cache of the session (or API caller) being served, for the shared applications.
_SERVED_CACHE: ContextVar[msal.SerializableTokenCache] = ContextVar("msal_served_cache")


class SignInError(Exception):
    """Sign-in could not complete; `title` and `message` are for the user, `status` for HTTP."""

    status = 400
    title = "Sign-in failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignInStateError(SignInError):
    title = "Sign-in link expired or already used"


class SignInNonceError(SignInError):
    title = "Sign-in response did not match"


class IdentityProviderError(SignInError):
    title = "The identity provider refused the sign-in"


class IdentityProviderUnavailable(SignInError):
    status = 503
    title = "The identity provider cannot be reached"


class TokenUnavailable(Exception):
    """No token could be had silently: the user must sign in again (with these scopes).

    `transient`: the identity provider could not be reached or failed; the refresh token may
    still be good, so trying later may work without the user.
    """

    def __init__(
        self,
        scopes: list[str],
        reason: str,
        claims_challenge: str | None = None,
        *,
        error: str = "",
        transient: bool = False,
    ) -> None:
        super().__init__(reason)
        self.scopes = scopes
        self.reason = reason
        self.claims_challenge = claims_challenge
        self.error = error
        self.transient = transient


# Token endpoint errors that only the user can clear, by signing in again: a refresh token
# revoked or expired (invalid_grant), Conditional Access or MFA (interaction_required, …).
SIGN_IN_ERRORS = frozenset(
    {"invalid_grant", "interaction_required", "consent_required", "login_required"}
)


class TenantRefused(Exception):
    """A tenant refused the signed-in user a token: the app is not consented there
    (`CONSENT_REQUIRED`), the user has no access (`NO_ACCESS`: not in the tenant, or the
    relationship expired), or no such tenant exists (`NOT_FOUND`)."""

    CONSENT_REQUIRED = "consent_required"
    NO_ACCESS = "no_access"
    NOT_FOUND = "not_found"

    def __init__(self, tenant_id: str, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.tenant_id = tenant_id
        self.reason = reason
        self.detail = detail


# Entra's answers that mean "this tenant will not give this user a token", by AADSTS code.
_NO_ACCESS_CODES = ("AADSTS50020", "AADSTS50177", "AADSTS500011", "AADSTS90072", "AADSTS50034")


def tenant_refusal(tenant_id: str, result: dict[str, Any]) -> TenantRefused | None:
    """The typed refusal a customer tenant's token endpoint answered, or None."""
    description = str(result.get("error_description") or "")
    if "AADSTS65001" in description or result.get("classification") == "consent_required":
        return TenantRefused(tenant_id, TenantRefused.CONSENT_REQUIRED, description)
    if description.startswith(_NO_ACCESS_CODES) or any(
        code in description for code in _NO_ACCESS_CODES
    ):
        return TenantRefused(tenant_id, TenantRefused.NO_ACCESS, description)
    if "AADSTS90002" in description:
        return TenantRefused(tenant_id, TenantRefused.NOT_FOUND, description)
    return None


def home_tenant_id() -> str:
    return str(settings.ENTRA_TENANT_ID)


def authority_for(tenant_id: str | None) -> str:
    """The tenant's authority: the configured one at home, the same host's `/<tenant>` else."""
    if not tenant_id or tenant_id == home_tenant_id():
        return str(settings.ENTRA_AUTHORITY)
    origin = urlsplit(settings.ENTRA_AUTHORITY)
    return f"{origin.scheme}://{origin.netloc}/{tenant_id}"


def tenant_id_for_domain(domain: str) -> str | None:
    """The id of the tenant a domain belongs to, from its authority's discovery document (the
    issuer names the tenant id); None when no tenant answers for it."""
    origin = urlsplit(settings.ENTRA_AUTHORITY)
    url = f"{origin.scheme}://{origin.netloc}/{domain}/v2.0/.well-known/openid-configuration"
    try:
        response = outbound_session().get(url, timeout=10)
        issuer = response.json().get("issuer", "") if response.ok else ""
    except (requests.RequestException, ValueError):
        return None
    parts = urlsplit(issuer).path.strip("/").split("/")
    return parts[0].lower() if parts and parts[0] else None


def forget_tenant_refusals(tenant_id: str) -> None:
    """Forget the tenant's refusals MSAL keeps for 60 s (its cache of HTTP 400 answers), so an
    access check right after an admin consented asks the tenant again."""
    prefix = f"POST {authority_for(tenant_id)}/"
    for key in [key for key in list(_HTTP_CACHE) if isinstance(key, str)]:
        if key.startswith(prefix):
            _HTTP_CACHE.pop(key, None)


AUTHORIZE_PATH = "/oauth2/v2.0/authorize"


def admin_consent_url(tenant_id: str, redirect_uri: str) -> str:
    """Where a tenant's administrator grants the dashboard its permissions for everyone: the
    tenant's `/adminconsent`, beside the authorization endpoint a browser is sent to."""
    query = urlencode({"client_id": settings.ENTRA_CLIENT_ID, "redirect_uri": redirect_uri})
    try:
        endpoint = _app().authority.authorization_endpoint
    except IdentityProviderUnavailable:
        endpoint = f"{settings.ENTRA_AUTHORITY}{AUTHORIZE_PATH}"
    if endpoint.endswith(AUTHORIZE_PATH):
        base = endpoint.removesuffix(AUTHORIZE_PATH).rsplit("/", 1)[0]
    else:
        base = authority_for(tenant_id).rsplit("/", 1)[0]
    return f"{base}/{tenant_id}/adminconsent?{query}"


@dataclass(frozen=True)
class Delegation:
    """A sign-in made for background work: who, and an MSAL cache holding only their tokens
    (its refresh token included; MSAL always asks for `offline_access`)."""

    claims: dict[str, Any]
    account_id: str
    token_cache: str


@dataclass(frozen=True)
class BackgroundToken:
    access_token: str
    expires_in: int  # seconds the access token is valid for
    # The refresh state after a refresh (a rotated refresh token) to store again, reduced by
    # `refresh_state`; None when unchanged.
    token_cache: str | None


@dataclass(frozen=True)
class SignedInIdentity:
    claims: dict[str, Any]
    account_id: str


def _load_cache(session: SessionBase) -> msal.SerializableTokenCache:
    cache = msal.SerializableTokenCache()
    if serialized := session.get(CACHE_KEY):
        cache.deserialize(serialized)
    return cache


def _save_cache(session: SessionBase, cache: msal.SerializableTokenCache) -> None:
    if cache.has_state_changed:
        session[CACHE_KEY] = cache.serialize()


class _ServedTokenCache:
    """The shared applications' token cache: each call reads and writes the cache of the
    session being served (`_serving`), so one application per authority serves every user.

    MSAL binds `remove_rt`/`update_rt` when the application is built: those forward explicitly.
    """

    def remove_rt(self, *args: Any, **kwargs: Any) -> Any:
        return _SERVED_CACHE.get().remove_rt(*args, **kwargs)

    def update_rt(self, *args: Any, **kwargs: Any) -> Any:
        return _SERVED_CACHE.get().update_rt(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(_SERVED_CACHE.get(), name)


@contextmanager
def _serving(cache: msal.SerializableTokenCache) -> Iterator[msal.SerializableTokenCache]:
    token = _SERVED_CACHE.set(cache)
    try:
        yield cache
    finally:
        _SERVED_CACHE.reset(token)


def _app(authority: str | None = None) -> msal.ConfidentialClientApplication:
    """The application for `authority` (the home tenant's by default), built once per process;
    use it inside `_serving(cache)`."""
    authority = authority or settings.ENTRA_AUTHORITY
    app = _APPS.get(authority)
    if app is not None:
        return app
    with _APPS_LOCK:
        if (app := _APPS.get(authority)) is not None:
            return app
        try:
            app = msal.ConfidentialClientApplication(
                settings.ENTRA_CLIENT_ID,
                client_credential=settings.ENTRA_CLIENT_SECRET,
                authority=authority,
                token_cache=_ServedTokenCache(),  # type: ignore[arg-type]
                http_client=outbound_session(),
                http_cache=_HTTP_CACHE,
                instance_discovery=False,
                client_capabilities=["CP1"],
            )
        except (ValueError, requests.RequestException) as exc:
            logger.warning("Identity provider discovery failed for %s: %s", authority, exc)
            raise IdentityProviderUnavailable(
                f"Could not read the sign-in configuration of {authority}. "
                "Check the network and ENTRA_AUTHORITY, then try again."
            ) from exc
        _APPS[authority] = app
        return app


def forget_applications() -> None:
    """Drop the per-process applications (tests: a fresh process; settings changed)."""
    with _APPS_LOCK:
        _APPS.clear()


def start_sign_in(
    session: SessionBase,
    *,
    redirect_uri: str,
    next_url: str,
    scopes: list[str] | None = None,
    claims_challenge: str | None = None,
    prompt: str | None = "select_account",
) -> str:
    """Begin the authorization-code flow (PKCE); returns the URL to send the browser to."""
    with _serving(_load_cache(session)):
        flow = _initiate(
            _app(),
            scopes or settings.GRAPH_SCOPES,
            redirect_uri=redirect_uri,
            prompt=prompt,
            claims_challenge=claims_challenge,
        )
    session[FLOW_KEY] = flow
    session[NEXT_KEY] = next_url
    return flow["auth_uri"]


def _initiate(
    app: msal.ConfidentialClientApplication,
    scopes: list[str],
    *,
    redirect_uri: str,
    prompt: str | None,
    claims_challenge: str | None = None,
) -> dict[str, Any]:
    with warnings.catch_warnings():
        # We keep the query response mode on purpose: with form_post the identity provider's
        # cross-site POST to the callback would arrive without our SameSite=Lax session cookie,
        # and the pending flow (PKCE verifier, nonce) lives in that server-side session.
        warnings.filterwarnings("ignore", message="response_mode='form_post'")
        return app.initiate_auth_code_flow(
            scopes, redirect_uri=redirect_uri, prompt=prompt, claims_challenge=claims_challenge
        )


def complete_sign_in(session: SessionBase, auth_response: dict[str, str]) -> SignedInIdentity:
    """Redeem the code the identity provider sent back; the flow is used at most once."""
    flow = _pop_flow(session, FLOW_KEY)
    cache = _load_cache(session)
    with _serving(cache):
        claims = _redeem(_app(), flow, auth_response)
    account_id = f"{claims['oid']}.{claims['tid']}"
    session[ACCOUNT_KEY] = account_id
    _save_cache(session, cache)
    return SignedInIdentity(claims=claims, account_id=account_id)


def _pop_flow(session: SessionBase, key: str) -> dict[str, Any]:
    """The pending flow, used at most once."""
    flow = session.pop(key, None)
    if not flow:
        raise SignInStateError(
            "This sign-in response does not belong to a sign-in in progress (it was already "
            "used, or it came from another browser). Start again."
        )
    return flow


def _redeem(
    app: msal.ConfidentialClientApplication, flow: dict[str, Any], auth_response: dict[str, str]
) -> dict[str, Any]:
    """Redeem the code into the app's cache; returns the ID token's claims."""
    if "error" in auth_response and auth_response.get("state") == flow.get("state"):
        raise _provider_error(auth_response)
    try:
        result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    except ValueError as exc:
        raise SignInStateError(
            "The sign-in response did not match the sign-in that was started (state "
            "mismatch). Start again."
        ) from exc
    except RuntimeError as exc:
        raise SignInNonceError(
            "The identity token did not carry the nonce of this sign-in, so it was refused. "
            "Start again."
        ) from exc
    except requests.RequestException as exc:
        raise IdentityProviderUnavailable(
            "The token endpoint could not be reached. Try again in a moment."
        ) from exc
    if "error" in result:
        raise _provider_error(result)
    return result["id_token_claims"]


def _provider_error(result: dict[str, Any]) -> IdentityProviderError:
    error = result.get("error", "unknown_error")
    description = result.get("error_description") or ""
    explanations = {
        "access_denied": "The sign-in was cancelled or refused.",
        "consent_required": (
            "An administrator must grant the dashboard the permissions it asks for."
        ),
        "interaction_required": "The identity provider needs you to sign in interactively.",
        "invalid_grant": "The sign-in code was refused by the token endpoint.",
    }
    explanation = explanations.get(error, "The identity provider returned an error.")
    return IdentityProviderError(f"{explanation} ({error}: {description})".replace(": )", ")"))


def pop_next_url(session: SessionBase) -> str:
    return session.pop(NEXT_KEY, "/")


def acquire_token(
    session: SessionBase,
    scopes: list[str],
    *,
    tenant: str | None = None,
    force_refresh: bool = False,
) -> str:
    """An access token for `scopes` in `tenant` (the home tenant by default), from the cache or
    refreshed silently: the same refresh token serves every tenant the user may reach.

    `force_refresh` skips the cached access token (Graph refused it) and redeems the refresh token.
    A tenant that refuses the user raises TenantRefused; no token at all, TokenUnavailable.
    """
    tokens = SessionTokens(session)
    try:
        return tokens.acquire(scopes, tenant=tenant, force_refresh=force_refresh)
    finally:
        tokens.save()


class SessionTokens:
    """One session's token cache, read once and held in memory (a fan-out across tenants shares
    it instead of reading and writing the session for every token); `save()` writes it back."""

    def __init__(self, session: SessionBase) -> None:
        self.session = session
        self.cache = _load_cache(session)
        self.account_id = session.get(ACCOUNT_KEY)

    def save(self) -> None:
        _save_cache(self.session, self.cache)

    def acquire(
        self, scopes: list[str], *, tenant: str | None = None, force_refresh: bool = False
    ) -> str:
        result = _silent_result(
            self.cache, self.account_id, scopes, tenant=tenant, force_refresh=force_refresh
        )
        return result["access_token"]


def _silent_result(
    cache: msal.SerializableTokenCache,
    account_id: str | None,
    scopes: list[str],
    *,
    force_refresh: bool,
    tenant: str | None = None,
) -> dict[str, Any]:
    """MSAL's answer holding an access token (`access_token`, `expires_in`), else raises."""
    home = not tenant or tenant == home_tenant_id()
    try:
        app = _app(authority_for(tenant))
    except IdentityProviderUnavailable as exc:
        if not home:
            raise TenantRefused(str(tenant), TenantRefused.NOT_FOUND, exc.message) from exc
        raise TokenUnavailable(scopes, exc.message, transient=True) from exc
    with _serving(cache):
        account = next((a for a in app.get_accounts() if a["home_account_id"] == account_id), None)
        if account is None:
            raise TokenUnavailable(scopes, "No signed-in account in this session.")
        try:
            result = app.acquire_token_silent_with_error(
                scopes, account, force_refresh=force_refresh
            )
        except requests.RequestException as exc:
            raise TokenUnavailable(
                scopes, "The token endpoint could not be reached.", transient=True
            ) from exc
    if not result or "access_token" not in result:
        if result and not home and (refused := tenant_refusal(str(tenant), result)):
            raise refused
        error = (result or {}).get("error", "")
        reason = (result or {}).get("error_description") or "The session's tokens have expired."
        transient = bool(error) and error not in SIGN_IN_ERRORS
        raise TokenUnavailable(scopes, reason, error=error, transient=transient)
    return result


# --- Background work: a delegated sign-in kept for tasks (the watch), not for a browser session --

BACKGROUND_FLOW_KEY = "msal_background_flow"


def start_background_sign_in(session: SessionBase, *, redirect_uri: str, scopes: list[str]) -> str:
    """Begin a sign-in whose tokens are kept for background work; the URL to send the browser to.

    Its pending flow has its own key, so the browser session's own sign-in is left alone.
    """
    with _serving(msal.SerializableTokenCache()):
        flow = _initiate(_app(), scopes, redirect_uri=redirect_uri, prompt="select_account")
    session[BACKGROUND_FLOW_KEY] = flow
    return flow["auth_uri"]


def complete_background_sign_in(session: SessionBase, auth_response: dict[str, str]) -> Delegation:
    """Redeem the code into a fresh MSAL cache that holds this sign-in's tokens only."""
    flow = _pop_flow(session, BACKGROUND_FLOW_KEY)
    cache = msal.SerializableTokenCache()
    with _serving(cache):
        claims = _redeem(_app(), flow, auth_response)
    return Delegation(
        claims=claims,
        account_id=f"{claims['oid']}.{claims['tid']}",
        token_cache=refresh_state(cache.serialize()),
    )


def acquire_background_token(
    token_cache: str,
    account_id: str,
    scopes: list[str],
    *,
    force_refresh: bool = False,
    tenant: str | None = None,
) -> BackgroundToken:
    """An access token from a stored background cache, refreshed silently when needed, for the
    home tenant or (`tenant`) a customer tenant's authority, as a browser session's are.

    Raises TokenUnavailable: `transient` when trying later may work, else the user must sign in
    again for it (revoked, expired, interaction required); TenantRefused when a customer tenant
    refuses the user (that tenant's problem, not the credentials').
    """
    cache = msal.SerializableTokenCache()
    cache.deserialize(token_cache)
    result = _silent_result(cache, account_id, scopes, force_refresh=force_refresh, tenant=tenant)
    return BackgroundToken(
        access_token=result["access_token"],
        expires_in=int(result.get("expires_in") or 0),
        token_cache=(
            refresh_state(cache.serialize(), kept_from=token_cache)
            if cache.has_state_changed
            else None
        ),
    )


def refresh_state(serialized: str, *, kept_from: str | None = None) -> str:
    """An MSAL cache reduced to what redeems new tokens: the account and its refresh token.

    Access tokens are left out (a background store keeps them apart, one per tenant), and so are
    the id tokens and accounts a redemption at another tenant's authority added (those not in
    `kept_from`): what is left stays the same size however many tenants the tokens serve.
    """
    state = json.loads(serialized)
    state.pop("AccessToken", None)
    if kept_from is not None:
        before = json.loads(kept_from)
        for section in ("IdToken", "Account"):
            known = before.get(section, {})
            state[section] = {k: v for k, v in state.get(section, {}).items() if k in known}
    return json.dumps(state)


def sign_out(session: SessionBase) -> str:
    """Forget the account's tokens; returns the identity provider's end-session URL."""
    cache = _load_cache(session)
    end_session = end_session_endpoint()
    try:
        app = _app()
    except IdentityProviderUnavailable:
        return end_session
    with _serving(cache):
        for account in app.get_accounts():
            if account["home_account_id"] == session.get(ACCOUNT_KEY):
                app.remove_account(account)
    _save_cache(session, cache)
    return end_session


def end_session_endpoint() -> str:
    """The authority's end_session_endpoint (MSAL does not keep it), read from discovery."""
    url = f"{settings.ENTRA_AUTHORITY}/v2.0/.well-known/openid-configuration"
    key = ("end_session_endpoint", url)
    if key not in _HTTP_CACHE:
        try:
            response = outbound_session().get(url)
            response.raise_for_status()
            _HTTP_CACHE[key] = response.json()["end_session_endpoint"]
        except (requests.RequestException, ValueError, KeyError):
            return f"{settings.ENTRA_AUTHORITY}/oauth2/v2.0/logout"
    return _HTTP_CACHE[key]


def acquire_token_on_behalf_of(
    *,
    oid: str,
    assertion: str,
    scopes: list[str],
    tenant: str | None = None,
    force_refresh: bool = False,
) -> str:
    """A Graph token in `tenant` (home by default) for the user behind an API token (MSAL's
    On-Behalf-Of flow).

    Each user's MSAL cache lives in Django's cache (Redis when several workers serve the API),
    so a script's calls reuse one Graph token per tenant until it expires.
    """
    home = not tenant or tenant == home_tenant_id()
    key = f"msal-obo-cache:{oid}"
    cache = msal.SerializableTokenCache()
    if not force_refresh and (serialized := django_cache.get(key)):
        cache.deserialize(serialized)
    try:
        app = _app(authority_for(tenant))
        with _serving(cache):
            result = _cached_for(app, oid, scopes) if not force_refresh else None
            if result is None:
                result = app.acquire_token_on_behalf_of(assertion, scopes)
    except IdentityProviderUnavailable as exc:
        if not home:
            raise TenantRefused(str(tenant), TenantRefused.NOT_FOUND, exc.message) from exc
        raise TokenUnavailable(scopes, exc.message) from exc
    except requests.RequestException as exc:
        raise TokenUnavailable(scopes, "The token endpoint could not be reached.") from exc
    if "access_token" not in result:
        if not home and (refused := tenant_refusal(str(tenant), result)):
            raise refused
        reason = result.get("error_description") or result.get("error") or "refused"
        raise TokenUnavailable(scopes, f"The tenant refused the On-Behalf-Of exchange: {reason}")
    if cache.has_state_changed:
        django_cache.set(key, cache.serialize(), timeout=24 * 3600)
    return result["access_token"]


def _cached_for(
    app: msal.ConfidentialClientApplication, oid: str, scopes: list[str]
) -> dict[str, Any] | None:
    """The user's Graph token from an earlier On-Behalf-Of answer (MSAL's OBO call itself always
    goes to the network), refreshed silently when it has expired."""
    for account in app.get_accounts():
        if account.get("local_account_id") == oid or account["home_account_id"].startswith(oid):
            result = app.acquire_token_silent(scopes, account)
            if result and "access_token" in result:
                return result
    return None

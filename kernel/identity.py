"""Delegated sign-in with MSAL: the auth-code flow, the per-session token cache, silent tokens.

Views call these functions; nothing else in the dashboard talks to MSAL.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

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
    # The cache after a refresh (a new refresh token) to store again; None when unchanged.
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


def _app(cache: msal.SerializableTokenCache) -> msal.ConfidentialClientApplication:
    try:
        return msal.ConfidentialClientApplication(
            settings.ENTRA_CLIENT_ID,
            client_credential=settings.ENTRA_CLIENT_SECRET,
            authority=settings.ENTRA_AUTHORITY,
            token_cache=cache,
            http_client=outbound_session(),
            http_cache=_HTTP_CACHE,
            instance_discovery=False,
            client_capabilities=["CP1"],
        )
    except (ValueError, requests.RequestException) as exc:
        logger.warning("Identity provider discovery failed: %s", exc)
        raise IdentityProviderUnavailable(
            f"Could not read the sign-in configuration of {settings.ENTRA_AUTHORITY}. "
            "Check the network and ENTRA_AUTHORITY, then try again."
        ) from exc


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
    flow = _initiate(
        _app(_load_cache(session)),
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
    claims = _redeem(_app(cache), flow, auth_response)
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


def acquire_token(session: SessionBase, scopes: list[str], *, force_refresh: bool = False) -> str:
    """An access token for `scopes`, from the cache or refreshed silently.

    `force_refresh` skips the cached access token (Graph refused it) and redeems the refresh token.
    """
    cache = _load_cache(session)
    try:
        return _silent(cache, session.get(ACCOUNT_KEY), scopes, force_refresh=force_refresh)
    finally:
        _save_cache(session, cache)


def _silent(
    cache: msal.SerializableTokenCache,
    account_id: str | None,
    scopes: list[str],
    *,
    force_refresh: bool,
) -> str:
    try:
        app = _app(cache)
    except IdentityProviderUnavailable as exc:
        raise TokenUnavailable(scopes, exc.message, transient=True) from exc
    account = next((a for a in app.get_accounts() if a["home_account_id"] == account_id), None)
    if account is None:
        raise TokenUnavailable(scopes, "No signed-in account in this session.")
    try:
        result = app.acquire_token_silent_with_error(scopes, account, force_refresh=force_refresh)
    except requests.RequestException as exc:
        raise TokenUnavailable(
            scopes, "The token endpoint could not be reached.", transient=True
        ) from exc
    if not result or "access_token" not in result:
        error = (result or {}).get("error", "")
        reason = (result or {}).get("error_description") or "The session's tokens have expired."
        transient = bool(error) and error not in SIGN_IN_ERRORS
        raise TokenUnavailable(scopes, reason, error=error, transient=transient)
    return result["access_token"]


# --- Background work: a delegated sign-in kept for tasks (the watch), not for a browser session --

BACKGROUND_FLOW_KEY = "msal_background_flow"


def start_background_sign_in(session: SessionBase, *, redirect_uri: str, scopes: list[str]) -> str:
    """Begin a sign-in whose tokens are kept for background work; the URL to send the browser to.

    Its pending flow has its own key, so the browser session's own sign-in is left alone.
    """
    flow = _initiate(
        _app(msal.SerializableTokenCache()),
        scopes,
        redirect_uri=redirect_uri,
        prompt="select_account",
    )
    session[BACKGROUND_FLOW_KEY] = flow
    return flow["auth_uri"]


def complete_background_sign_in(session: SessionBase, auth_response: dict[str, str]) -> Delegation:
    """Redeem the code into a fresh MSAL cache that holds this sign-in's tokens only."""
    flow = _pop_flow(session, BACKGROUND_FLOW_KEY)
    cache = msal.SerializableTokenCache()
    claims = _redeem(_app(cache), flow, auth_response)
    return Delegation(
        claims=claims,
        account_id=f"{claims['oid']}.{claims['tid']}",
        token_cache=cache.serialize(),
    )


def acquire_background_token(
    token_cache: str, account_id: str, scopes: list[str], *, force_refresh: bool = False
) -> BackgroundToken:
    """An access token from a stored background cache, refreshed silently when needed.

    Raises TokenUnavailable: `transient` when trying later may work, else the user must sign in
    again for it (revoked, expired, interaction required).
    """
    cache = msal.SerializableTokenCache()
    cache.deserialize(token_cache)
    token = _silent(cache, account_id, scopes, force_refresh=force_refresh)
    return BackgroundToken(
        access_token=token, token_cache=cache.serialize() if cache.has_state_changed else None
    )


def sign_out(session: SessionBase) -> str:
    """Forget the account's tokens; returns the identity provider's end-session URL."""
    cache = _load_cache(session)
    end_session = end_session_endpoint()
    try:
        app = _app(cache)
    except IdentityProviderUnavailable:
        return end_session
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
    *, oid: str, assertion: str, scopes: list[str], force_refresh: bool = False
) -> str:
    """A Graph token for the user behind an API token (MSAL's On-Behalf-Of flow).

    Each user's MSAL cache lives in Django's cache (Redis when several workers serve the API),
    so a script's calls reuse one Graph token until it expires.
    """
    key = f"msal-obo-cache:{oid}"
    cache = msal.SerializableTokenCache()
    if not force_refresh and (serialized := django_cache.get(key)):
        cache.deserialize(serialized)
    try:
        app = _app(cache)
        result = _cached_for(app, oid, scopes) if not force_refresh else None
        if result is None:
            result = app.acquire_token_on_behalf_of(assertion, scopes)
    except IdentityProviderUnavailable as exc:
        raise TokenUnavailable(scopes, exc.message) from exc
    except requests.RequestException as exc:
        raise TokenUnavailable(scopes, "The token endpoint could not be reached.") from exc
    if "access_token" not in result:
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

"""The watch's delegated credentials: turned on by an Admin's sign-in, used only by watch tasks.

    graph = graph_for_watch(via=…, tenant=…)   # in a task: Graph as the admin who turned the
                                               # watch on, in the home or a customer tenant
    actor = watch_actor(via="schedule 'audit checkpoint'")   # who background writes are audited as

The MSAL cache's refresh state (account and refresh token) is stored encrypted (`watch.crypto`)
in the credential row; access tokens are kept apart, one per tenant (`watch.access_tokens`). A
refresh the identity provider refuses (revoked, expired, interaction required) marks the
credentials "needs sign-in"; an Admin signs in for the watch again to clear it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import Action, TargetType
from audit.services import Actor, Target, audit_local_change
from graph.client import GraphClient, RequestMeter
from graph.errors import GraphAuthError, GraphUnavailable
from kernel import identity
from kernel.errors import Refusal
from kernel.roles import Role, role_from_claims
from watch import access_tokens, crypto
from watch.models import CredentialStatus, WatchCredential

USE_NOTED_EVERY = timedelta(minutes=1)


class WatchRefusal(Refusal):
    """The watch cannot be turned on with this sign-in."""

    status = 403


def tenant_id() -> str:
    return settings.ENTRA_TENANT_ID


def current_credential() -> WatchCredential | None:
    return WatchCredential.objects.filter(tenant_id=tenant_id()).first()


def _target(credential: WatchCredential) -> Target:
    return Target(type=TargetType.WATCH_CREDENTIAL, id=credential.oid, name=credential.upn)


def _record(actor: Actor, action: str, credential: WatchCredential, **values: object) -> None:
    audit_local_change(actor=actor, action=action, target=_target(credential), after=values)


def enable(*, actor: Actor, delegation: identity.Delegation) -> WatchCredential:
    """Keep a delegated sign-in for the watch (replacing any earlier one); audited."""
    claims = delegation.claims
    if not role_from_claims(claims.get("roles", [])).allows(Role.ADMIN):
        raise WatchRefusal(
            f"{claims.get('preferred_username', 'That account')} does not have the dashboard's "
            "Admin role, so the watch cannot act as it. Sign in for the watch as an Admin."
        )
    now = timezone.now()
    credential, _ = WatchCredential.objects.update_or_create(
        tenant_id=tenant_id(),
        defaults={
            "account_id": delegation.account_id,
            "oid": claims["oid"],
            "upn": claims.get("preferred_username", ""),
            "display_name": claims.get("name", ""),
            "token_cache": crypto.encrypt(delegation.token_cache),
            "status": CredentialStatus.ACTIVE,
            "status_reason": "",
            "status_changed_at": now,
            "enabled_at": now,
            "enabled_by": actor.upn,
            "last_refresh_at": now,
            "last_used_at": None,
            "revoked_by": "",
        },
    )
    _record(
        actor,
        Action.WATCH_CREDENTIAL_ENABLE,
        credential,
        acting_as=credential.upn,
        status=credential.status,
    )
    return credential


def revoke(*, actor: Actor) -> WatchCredential | None:
    """Forget the watch's tokens (the watch stops acting); audited. None if it was not on."""
    credential = current_credential()
    if credential is None or credential.status == CredentialStatus.REVOKED:
        return None
    credential.token_cache = ""
    credential.status = CredentialStatus.REVOKED
    credential.status_reason = f"Revoked by {actor.upn}."
    credential.status_changed_at = timezone.now()
    credential.revoked_by = actor.upn
    credential.save()
    _record(actor, Action.WATCH_CREDENTIAL_REVOKE, credential, status=credential.status)
    return credential


def watch_actor(*, via: str, credential: WatchCredential | None = None) -> Actor:
    """Who a background write is audited as: the watch acting for the admin it signed in as.

    Without credentials (the watch is off) the watch acts as itself, for its own upkeep only.
    """
    credential = credential or current_credential()
    if credential is None:
        return Actor.watch(oid="", upn="watch", name="Watch", tenant_id=tenant_id(), via=via)
    return Actor.watch(
        oid=credential.oid,
        upn=credential.upn,
        name=credential.display_name or credential.upn,
        tenant_id=credential.tenant_id,
        via=via,
    )


@dataclass(frozen=True)
class _Outcome:
    token: str = ""
    lost: str = ""  # why the credentials now need sign-in
    transient: str = ""  # why no token now, though later may work
    refused: identity.TenantRefused | None = None  # a customer tenant refused the admin


def access_token(
    scopes: Sequence[str],
    *,
    force_refresh: bool = False,
    via: str = "",
    tenant: str | None = None,
) -> str:
    """An access token for the watch (silently, refreshed when needed) in the home tenant or a
    customer tenant (`tenant`), or GraphAuthError; identity.TenantRefused when that tenant
    refuses the admin (consent missing, relationship ended): the tenant's fault, not the
    credentials'.

    A kept access token (`watch.access_tokens`) is read without a lock. Only to redeem the
    refresh token is the row locked: the identity provider rotates it, so two workers must not
    redeem the same one.
    """
    scopes = list(scopes)
    if not force_refresh:
        credential = _active(current_credential(), scopes)
        if token := access_tokens.cached(credential, tenant, scopes):
            _note_use(credential)
            return token
    with transaction.atomic():
        credential = _active(
            WatchCredential.objects.select_for_update().filter(tenant_id=tenant_id()).first(),
            scopes,
        )
        # Another worker may have redeemed it for this tenant while this one waited.
        kept = None if force_refresh else access_tokens.cached(credential, tenant, scopes)
        outcome = (
            _Outcome(token=kept)
            if kept
            else _acquire(credential, scopes, force_refresh=force_refresh, tenant=tenant)
        )
    if outcome.refused is not None:
        raise outcome.refused
    if outcome.lost:
        _record(
            watch_actor(via=via or "token refresh", credential=credential),
            Action.WATCH_CREDENTIAL_LOST,
            credential,
            status=credential.status,
            reason=outcome.lost,
        )
        raise GraphAuthError(f"The watch needs sign-in: {outcome.lost}", scopes=scopes)
    if outcome.transient:
        raise GraphUnavailable(f"No token for the watch right now: {outcome.transient}")
    return outcome.token


def _active(credential: WatchCredential | None, scopes: list[str]) -> WatchCredential:
    if credential is None or credential.status != CredentialStatus.ACTIVE:
        state = "off" if credential is None else credential.get_status_display().lower()
        raise GraphAuthError(
            f"The watch has no credentials to act with ({state}): an Admin signs in for "
            "it on the watch page.",
            scopes=scopes,
        )
    return credential


def _note_use(credential: WatchCredential) -> None:
    """Record when the watch last acted, at most once a minute (not a write per sweep)."""
    now = timezone.now()
    if credential.last_used_at is None or now - credential.last_used_at >= USE_NOTED_EVERY:
        WatchCredential.objects.filter(pk=credential.pk).update(last_used_at=now)


def _acquire(
    credential: WatchCredential, scopes: list[str], *, force_refresh: bool, tenant: str | None
) -> _Outcome:
    """Inside the row lock: get a token, store what changed, never raise past the lock."""
    now = timezone.now()
    try:
        stored = crypto.decrypt(credential.token_cache)
        token = identity.acquire_background_token(
            stored, credential.account_id, scopes, force_refresh=force_refresh, tenant=tenant
        )
    except identity.TenantRefused as exc:
        return _Outcome(refused=exc)
    except crypto.CredentialKeyError as exc:
        return _lose(credential, str(exc), now)
    except identity.TokenUnavailable as exc:
        if exc.transient:
            return _Outcome(transient=exc.reason)
        return _lose(credential, exc.reason, now)
    fields = ["last_used_at"]
    credential.last_used_at = now
    if token.token_cache is not None:
        credential.token_cache = crypto.encrypt(token.token_cache)
        credential.last_refresh_at = now
        fields += ["token_cache", "last_refresh_at"]
    elif not crypto.under_current_key(credential.token_cache):
        credential.token_cache = crypto.reencrypt(credential.token_cache)
        fields.append("token_cache")
    credential.save(update_fields=fields)
    access_tokens.keep(
        credential, tenant, scopes, token=token.access_token, expires_in=token.expires_in
    )
    return _Outcome(token=token.access_token)


def _lose(credential: WatchCredential, reason: str, now: object) -> _Outcome:
    credential.status = CredentialStatus.NEEDS_SIGN_IN
    credential.status_reason = reason
    credential.status_changed_at = now
    credential.save(update_fields=["status", "status_reason", "status_changed_at"])
    return _Outcome(lost=reason)


def check(*, via: str) -> dict[str, str]:
    """Redeem the refresh token now (the credential check task); what it found."""
    credential = current_credential()
    if credential is None or credential.status != CredentialStatus.ACTIVE:
        return {"status": credential.status if credential else "off"}
    try:
        access_token(settings.WATCH_GRAPH_SCOPES, force_refresh=True, via=via)
    except GraphAuthError as exc:
        return {"status": CredentialStatus.NEEDS_SIGN_IN, "reason": str(exc.message)}
    return {"status": CredentialStatus.ACTIVE, "acting_as": credential.upn}


def reencrypt_all() -> int:
    """Re-encrypt every stored credential under the first key; returns how many changed."""
    changed = 0
    for credential in WatchCredential.objects.exclude(token_cache=""):
        if not crypto.under_current_key(credential.token_cache):
            credential.token_cache = crypto.reencrypt(credential.token_cache)
            credential.save(update_fields=["token_cache"])
            changed += 1
    return changed


@dataclass(frozen=True)
class WatchTokenProvider:
    """Graph tokens for watch tasks, from the stored credentials (graph.client.TokenProvider)."""

    via: str = ""
    tenant: str | None = None

    def __call__(self, scopes: Sequence[str], *, force_refresh: bool = False) -> str:
        return access_token(scopes, force_refresh=force_refresh, via=self.via, tenant=self.tenant)


def graph_for_watch(
    *,
    via: str,
    tenant: str | None = None,
    scopes: Sequence[str] | None = None,
    meter: RequestMeter | None = None,
) -> GraphClient:
    """The one way a watch task gets Graph: as the admin who turned the watch on, in the home
    tenant or (`tenant`, a GDAP customer) that tenant's authority; `meter` counts its requests
    against a throttling budget (`watch.budget`)."""
    return GraphClient(
        WatchTokenProvider(via=via, tenant=tenant),
        scopes=scopes or settings.WATCH_GRAPH_SCOPES,
        meter=meter,
    )

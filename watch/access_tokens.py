"""The watch's access tokens, one per tenant and scopes, kept apart from its refresh token.

The credential row (locked while its refresh token is redeemed, because the identity provider
rotates it) holds only the refresh state: a few KB, whatever the number of tenants watched. Each
access token is kept here until shortly before it expires, encrypted as the row is
(`watch.crypto`), in Django's cache: Redis, shared by every worker, where `REDIS_URL` is set;
the process's memory otherwise. A sweep reads one small entry and takes no lock.

An entry is keyed by the credential's sign-in (`enabled_at`), so signing in for the watch again
leaves the earlier sign-in's tokens unread; revoking is seen on the row before this is read. An
entry a rotated-out key no longer decrypts is a miss: the refresh token gets a new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.core.cache import cache

from watch import crypto
from watch.models import WatchCredential

# MSAL stops handing out an access token 5 minutes before it expires; so does the store (or a
# quarter of a short lifetime), so a token read here lasts through a sweep.
EARLY_SECONDS = 300


def _key(credential: WatchCredential, tenant: str | None, scopes: Sequence[str]) -> str:
    signed_in = int(credential.enabled_at.timestamp() * 1_000_000)
    wanted = hashlib.sha256(" ".join(sorted(scopes)).encode()).hexdigest()[:16]
    return f"watch-access-token:{credential.pk}:{signed_in}:{tenant or 'home'}:{wanted}"


def cached(credential: WatchCredential, tenant: str | None, scopes: Sequence[str]) -> str | None:
    """A kept access token that is still good for a while, else None."""
    stored = cache.get(_key(credential, tenant, scopes))
    if stored is None:
        return None
    try:
        return crypto.decrypt(stored)
    except crypto.CredentialKeyError:
        return None


def keep(
    credential: WatchCredential,
    tenant: str | None,
    scopes: Sequence[str],
    *,
    token: str,
    expires_in: int,
) -> None:
    lifetime = expires_in - min(EARLY_SECONDS, expires_in // 4)
    if lifetime > 0:
        cache.set(_key(credential, tenant, scopes), crypto.encrypt(token), lifetime)

"""Encryption at rest for the watch's credentials: MultiFernet over WATCH_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts. Rotation: put a new key first and keep the old one
second; each credential is re-encrypted under the new key the next time the watch uses it (or at
once with `manage.py watch_reencrypt`), after which the old key can go.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialKeyError(Exception):
    """No key is configured, or none of them decrypts a stored credential."""


def _fernets() -> list[Fernet]:
    keys = list(settings.WATCH_ENCRYPTION_KEYS)
    if not keys:
        raise CredentialKeyError(
            "WATCH_ENCRYPTION_KEYS is not set: the watch cannot store credentials. Set it to a "
            "Fernet key (Fernet.generate_key())."
        )
    try:
        return [Fernet(key) for key in keys]
    except ValueError as exc:
        raise CredentialKeyError(
            "WATCH_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe "
            "base64-encoded bytes)."
        ) from exc


def encrypt(plaintext: str) -> str:
    return MultiFernet(_fernets()).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return MultiFernet(_fernets()).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise CredentialKeyError(
            "None of WATCH_ENCRYPTION_KEYS decrypts the stored credentials (was the key that "
            "encrypted them removed?)."
        ) from exc


def under_current_key(ciphertext: str) -> bool:
    """Whether the first (encrypting) key decrypts it: else it is due for re-encryption."""
    try:
        _fernets()[0].decrypt(ciphertext.encode())
    except InvalidToken:
        return False
    return True


def reencrypt(ciphertext: str) -> str:
    """The same plaintext under the first key (MultiFernet.rotate)."""
    try:
        return MultiFernet(_fernets()).rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise CredentialKeyError("None of WATCH_ENCRYPTION_KEYS decrypts it.") from exc

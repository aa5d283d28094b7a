"""The sandbox tenant's own state: signing keys, sign-in codes and refresh tokens."""

from __future__ import annotations

from django.db import models


class SigningKey(models.Model):
    """The RS256 key the sandbox signs tokens with; generated once and kept across restarts."""

    kid = models.CharField(max_length=64, unique=True)
    private_key_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.kid


class AuthorizationCode(models.Model):
    code_hash = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=64)
    redirect_uri = models.TextField()
    code_challenge = models.CharField(max_length=128)
    nonce = models.CharField(max_length=255, blank=True)
    scope = models.TextField()
    upn = models.CharField(max_length=255)
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for {self.upn}"


class RefreshToken(models.Model):
    token_hash = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=64)
    upn = models.CharField(max_length=255)
    scope = models.TextField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token for {self.upn}"

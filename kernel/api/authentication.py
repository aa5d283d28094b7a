"""How the API knows who calls with a tenant-issued bearer token (beside the browser session)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from rest_framework import authentication, exceptions

from kernel.api import schema  # noqa: F401 - registers the scheme with drf-spectacular
from kernel.api_tokens import ApiCredential, InvalidApiToken, validate_api_token
from kernel.roles import role_from_claims


class EntraBearerAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` with a token for this dashboard's API (`access_as_user`).

    The user behind the token acts, with the dashboard role of the token's `roles` claim; Graph
    is then called On-Behalf-Of that user.
    """

    keyword = "Bearer"

    def authenticate(self, request: HttpRequest) -> tuple[AbstractBaseUser, ApiCredential] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <token>'."
            )
        try:
            credential = validate_api_token(header[1].decode("ascii", errors="replace"))
        except InvalidApiToken as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        claims = credential.claims
        user = get_user_model().objects.upsert_from_claims(
            claims, role_from_claims(claims.get("roles", []))
        )
        return user, credential

    def authenticate_header(self, request: HttpRequest) -> str:
        return f'{self.keyword} realm="api", scope="access_as_user"'

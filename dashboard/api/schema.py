"""How the API's authentication appears in its OpenAPI schema."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class EntraBearerScheme(OpenApiAuthenticationExtension):
    target_class = "dashboard.api.authentication.EntraBearerAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "An access token from the tenant for this dashboard's API: scope "
                f"api://{settings.ENTRA_CLIENT_ID}/access_as_user (the device code flow works "
                "for scripts)."
            ),
        }

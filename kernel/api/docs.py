"""The OpenAPI schema and its interactive docs as views."""

from __future__ import annotations

from typing import Any

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.renderers import JSONRenderer

# The hash of the inline <style> in drf-spectacular's Swagger UI page (html/body box-sizing).
SWAGGER_UI_STYLE_HASH = "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"


class JsonErrorsMixin:
    """Errors as JSON (`{"message", "extra"}`), even from views that render YAML or HTML."""

    def handle_exception(self, exc: Exception) -> Any:
        self.request.accepted_renderer = JSONRenderer()  # type: ignore[attr-defined]
        self.request.accepted_media_type = "application/json"  # type: ignore[attr-defined]
        return super().handle_exception(exc)  # type: ignore[misc]


class SchemaView(JsonErrorsMixin, SpectacularAPIView):
    """The OpenAPI 3 schema (YAML; `?format=json` for JSON)."""


class DocsView(JsonErrorsMixin, SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar's local assets; its set-up script is a separate
    file, so the strict Content-Security-Policy holds."""

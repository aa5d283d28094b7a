"""The URLconf the sandbox's own hosts use (in-process transport and `sandbox_serve`)."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("", include("sandbox.urls"))]

"""Refusals of the tenants app."""

from __future__ import annotations

from kernel.errors import Refusal


class TenantNotFound(Refusal):
    status = 404

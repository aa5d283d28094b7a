"""The tenants the dashboard manages and the last health snapshot of each."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class TenantSource(models.TextChoices):
    HOME = "home", "Home tenant"
    GDAP = "gdap", "GDAP relationship"
    MANUAL = "manual", "Added by hand"


class AccessState(models.TextChoices):
    """What the tenant's token endpoint answered the last time access was checked."""

    UNCHECKED = "unchecked", "Not checked yet"
    READY = "ready", "Ready"
    CONSENT_NEEDED = "consent_needed", "Consent needed"
    NO_ACCESS = "no_access", "No access"


class ManagedTenant(models.Model):
    tenant_id = models.CharField(max_length=36, unique=True)
    display_name = models.CharField(max_length=255, blank=True)
    default_domain = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=16, choices=TenantSource.choices)
    # From the GDAP relationship (blank for the home tenant and tenants added by hand).
    relationship_id = models.CharField(max_length=80, blank=True)
    relationship_status = models.CharField(max_length=32, blank=True)
    relationship_end = models.DateTimeField(null=True, blank=True)
    role_ids = models.JSONField(default=list)
    access = models.CharField(
        max_length=16, choices=AccessState.choices, default=AccessState.UNCHECKED
    )
    access_detail = models.TextField(blank=True)
    access_checked_at = models.DateTimeField(null=True, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["display_name", "tenant_id"]

    def __str__(self) -> str:
        return self.display_name or self.default_domain or self.tenant_id

    @property
    def label(self) -> str:
        return str(self)


class TenantSnapshot(models.Model):
    """One tenant's connector health as last read from Graph (an observation, stamped with its
    time; never what a write is decided on)."""

    tenant = models.OneToOneField(ManagedTenant, on_delete=models.CASCADE, related_name="snapshot")
    taken_at = models.DateTimeField()
    ok = models.BooleanField(default=True)
    error = models.TextField(blank=True)
    exchange_total = models.PositiveIntegerField(default=0)
    exchange_healthy = models.PositiveIntegerField(default=0)
    exchange_unhealthy = models.PositiveIntegerField(default=0)
    exchange_stale = models.PositiveIntegerField(default=0)
    # Null: not read (the relationship's roles do not reach App Proxy, or its read failed).
    app_proxy_connectors = models.PositiveIntegerField(null=True, blank=True)
    app_proxy_inactive = models.PositiveIntegerField(null=True, blank=True)
    groups_total = models.PositiveIntegerField(null=True, blank=True)
    groups_at_risk = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.tenant} at {self.taken_at:%Y-%m-%d %H:%M}"

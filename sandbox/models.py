"""The sandbox tenant's own state: signing keys, sign-in tokens, connectors, audit, request log."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.utils import timezone

from sandbox.scope import TenantScopedManager, current_tenant


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


class DeviceCode(models.Model):
    """A pending device-code sign-in (RFC 8628): a script polls, a person approves it."""

    device_code_hash = models.CharField(max_length=64, unique=True)
    user_code = models.CharField(max_length=16, unique=True)
    client_id = models.CharField(max_length=64)
    scope = models.TextField()
    expires_at = models.DateTimeField()
    approved_upn = models.CharField(max_length=255, blank=True)
    declined = models.BooleanField(default=False)
    redeemed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"device code {self.user_code}"


class RefreshToken(models.Model):
    token_hash = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=64)
    upn = models.CharField(max_length=255)
    scope = models.TextField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token for {self.upn}"


def new_guid() -> str:
    return str(uuid.uuid4())


class ExchangeConnector(models.Model):
    """An Intune Exchange connector (`deviceManagementExchangeConnector`)."""

    id = models.CharField(primary_key=True, max_length=36, default=new_guid, editable=False)
    tenant_id = models.CharField(max_length=36, default=current_tenant, db_index=True)
    last_sync_date_time = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=32, default="connected")
    primary_smtp_address = models.CharField(max_length=255, blank=True)
    server_name = models.CharField(max_length=255, blank=True)
    connector_server_name = models.CharField(max_length=255, blank=True)
    exchange_connector_type = models.CharField(max_length=32, default="onPremises")
    version = models.CharField(max_length=64, blank=True)
    exchange_alias = models.CharField(max_length=255, blank=True)
    exchange_organization = models.CharField(max_length=255, blank=True)
    # Sandbox-only: a broken connector accepts sync requests but never completes one.
    sync_broken = models.BooleanField(default=False)
    # A requested sync lands lazily, the first time the connector is read after `sync_due_at`.
    sync_requested_at = models.DateTimeField(null=True, blank=True)
    sync_due_at = models.DateTimeField(null=True, blank=True)
    sync_type = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    everywhere = models.Manager()  # every tenant's rows (reset, bench)
    objects = TenantScopedManager()

    class Meta:
        default_manager_name = "objects"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.server_name or self.id


class ConnectorGroupType(models.TextChoices):
    """Graph's `connectorGroupType`: its metadata has only this member."""

    APPLICATION_PROXY = "applicationProxy", "Application Proxy"


class ConnectorGroup(models.Model):
    """An Entra Application Proxy connector group (`connectorGroup`)."""

    id = models.CharField(primary_key=True, max_length=36, default=new_guid, editable=False)
    tenant_id = models.CharField(max_length=36, default=current_tenant, db_index=True)
    name = models.CharField(max_length=255)
    connector_group_type = models.CharField(
        max_length=32,
        choices=ConnectorGroupType.choices,
        default=ConnectorGroupType.APPLICATION_PROXY,
    )
    is_default = models.BooleanField(default=False)
    # Empty means no region (Graph shows null).
    region = models.CharField(max_length=32, blank=True)
    # Sandbox-only: published applications are not modelled, only counted, so the rules that
    # depend on them (delete, region change) can be exercised.
    application_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    everywhere = models.Manager()  # every tenant's rows (reset, bench)
    objects = TenantScopedManager()

    class Meta:
        default_manager_name = "objects"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class AppProxyConnector(models.Model):
    """An Entra Application Proxy connector (`connector`); always in exactly one group."""

    id = models.CharField(primary_key=True, max_length=36, default=new_guid, editable=False)
    tenant_id = models.CharField(max_length=36, default=current_tenant, db_index=True)
    machine_name = models.CharField(max_length=255)
    external_ip = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, default="active")
    version = models.CharField(max_length=64, blank=True)
    group = models.ForeignKey(ConnectorGroup, on_delete=models.PROTECT, related_name="members")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    everywhere = models.Manager()  # every tenant's rows (reset, bench)
    objects = TenantScopedManager()

    class Meta:
        default_manager_name = "objects"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.machine_name


class AuditEvent(models.Model):
    """An Intune audit event (`auditEvent`), written by every successful sandbox write."""

    id = models.CharField(primary_key=True, max_length=36, default=new_guid, editable=False)
    tenant_id = models.CharField(max_length=36, default=current_tenant, db_index=True)
    display_name = models.CharField(max_length=255, blank=True)
    component_name = models.CharField(max_length=128, blank=True)
    actor = models.JSONField(default=dict)
    activity = models.CharField(max_length=255, blank=True)
    activity_date_time = models.DateTimeField(default=timezone.now)
    activity_type = models.CharField(max_length=255, blank=True)
    activity_operation_type = models.CharField(max_length=64, blank=True)
    activity_result = models.CharField(max_length=64, default="Success")
    correlation_id = models.CharField(max_length=36, default=new_guid)
    resources = models.JSONField(default=list)
    category = models.CharField(max_length=128, blank=True)

    everywhere = models.Manager()  # every tenant's rows (reset, bench)
    objects = TenantScopedManager()

    class Meta:
        default_manager_name = "objects"
        ordering = ["activity_date_time", "id"]

    def __str__(self) -> str:
        return f"{self.activity} at {self.activity_date_time:%Y-%m-%d %H:%M:%S}"


class RequestLog(models.Model):
    """One Graph request the sandbox answered (inner $batch requests get their own rows)."""

    method = models.CharField(max_length=10)
    path = models.TextField()
    query = models.TextField(blank=True)
    status = models.PositiveSmallIntegerField()
    request_id = models.CharField(max_length=36)
    client_request_id = models.CharField(max_length=255, blank=True)
    # The outer $batch request's request-id for an inner request; empty for top-level ones.
    batch_request_id = models.CharField(max_length=36, blank=True)
    # The tenant its token was issued for (blank when no token got it that far): Graph's limits
    # are per tenant, so this is what a throttling budget is checked against.
    tenant_id = models.CharField(max_length=36, blank=True)
    time = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status}"


class Consent(models.Model):
    """A delegated Graph permission a user consented to for one application (incremental consent).

    Permissions an administrator granted for the whole tenant need no row (sandbox.consent).
    """

    upn = models.CharField(max_length=255)
    client_id = models.CharField(max_length=64)
    scope = models.CharField(max_length=255)  # short form, e.g. Directory.ReadWrite.All
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["upn", "client_id", "scope"], name="consent_unique")
        ]

    def __str__(self) -> str:
        return f"{self.upn} → {self.scope}"


class Tenant(models.Model):
    """A directory: the partner tenant (home of the demo users) or one of its customers."""

    id = models.CharField(primary_key=True, max_length=36)
    display_name = models.CharField(max_length=255)
    default_domain = models.CharField(max_length=255, unique=True)
    is_partner = models.BooleanField(default=False)
    # An administrator of the tenant granted the dashboard's permissions (admin consent).
    app_consented = models.BooleanField(default=True)

    class Meta:
        ordering = ["-is_partner", "display_name", "id"]

    def __str__(self) -> str:
        return self.display_name


class RelationshipStatus(models.TextChoices):
    """`delegatedAdminRelationshipStatus`, as Graph v1.0 spells it."""

    ACTIVATING = "activating"
    ACTIVE = "active"
    APPROVAL_PENDING = "approvalPending"
    APPROVED = "approved"
    CREATED = "created"
    EXPIRED = "expired"
    EXPIRING = "expiring"
    TERMINATED = "terminated"
    TERMINATING = "terminating"
    TERMINATION_REQUESTED = "terminationRequested"


class DelegatedAdminRelationship(models.Model):
    """The partner's GDAP relationship with one customer (`delegatedAdminRelationship`)."""

    id = models.CharField(primary_key=True, max_length=73)
    display_name = models.CharField(max_length=50)
    status = models.CharField(max_length=32, choices=RelationshipStatus.choices)
    customer = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="relationships")
    role_ids = models.JSONField(default=list)
    duration = models.CharField(max_length=16, default="P730D")
    auto_extend_duration = models.CharField(max_length=16, default="PT0S")
    created_date_time = models.DateTimeField(default=timezone.now)
    activated_date_time = models.DateTimeField(null=True, blank=True)
    end_date_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_date_time", "id"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.status})"

    @property
    def customer_json(self) -> dict[str, str]:
        return {"tenantId": self.customer_id, "displayName": self.customer.display_name}

    @property
    def access_details_json(self) -> dict[str, list[dict[str, str]]]:
        return {"unifiedRoles": [{"roleDefinitionId": role} for role in self.role_ids]}

    @property
    def last_modified_date_time(self) -> datetime:
        return self.activated_date_time or self.created_date_time


class ScenarioKind(models.TextChoices):
    """What a sandbox scenario does to its object (`sandbox_scenario`, `/_sandbox/scenarios`)."""

    EXCHANGE_STOPS_SYNCING = "exchange-stops-syncing", "An Exchange connector stops syncing"
    APP_PROXY_INACTIVE = "app-proxy-inactive", "An App Proxy connector goes inactive"
    GROUP_DOWN = "group-down", "A connector group loses all its active connectors"


class ScenarioState(models.TextChoices):
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    RECOVERED = "recovered"


class Scenario(models.Model):
    """An outage of one object at a given time, and its recovery, kept across processes.

    Applied lazily, like a requested sync: the first Graph request into the tenant after `at`
    (or after `recover_at`) applies it, so no clock process is needed. `prior` keeps what the
    outage changed, and recovery puts it back.
    """

    tenant_id = models.CharField(max_length=36)
    kind = models.CharField(max_length=32, choices=ScenarioKind.choices)
    object_id = models.CharField(max_length=36)
    # Exchange only: the connector also reports `disconnected` while it is down.
    disconnected = models.BooleanField(default=False)
    at = models.DateTimeField()
    recover_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=16, choices=ScenarioState.choices, default=ScenarioState.SCHEDULED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    prior = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["tenant_id", "state"], name="scenario_tenant_state")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.object_id} ({self.state})"

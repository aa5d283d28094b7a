"""The watch's rows: its delegated credentials, each task run, each worker's heartbeat."""

from __future__ import annotations

import json

from django.db import models


class CredentialStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    NEEDS_SIGN_IN = "needs_sign_in", "Needs sign-in"
    REVOKED = "revoked", "Revoked"


class WatchCredential(models.Model):
    """The tokens the watch acts with in one tenant: an Admin's delegated sign-in for it.

    `token_cache` is the MSAL token cache (its refresh token included) encrypted with
    WATCH_ENCRYPTION_KEYS (a Fernet token; `watch.crypto`): never plaintext at rest.
    """

    tenant_id = models.CharField(max_length=64, unique=True)
    account_id = models.CharField(max_length=160)
    oid = models.CharField("object id", max_length=64)
    upn = models.CharField("user principal name", max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    token_cache = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=CredentialStatus.choices, default=CredentialStatus.ACTIVE
    )
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField()
    enabled_at = models.DateTimeField()
    enabled_by = models.CharField(max_length=255)
    last_refresh_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"watch credential for {self.upn} ({self.get_status_display()})"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class TaskRun(models.Model):
    """One task, keyed by its Celery task id: a redelivered task updates its own row."""

    task_id = models.CharField(max_length=64, unique=True)
    task_name = models.CharField(max_length=200, db_index=True)
    schedule = models.CharField(max_length=200, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=RunStatus.choices)
    started_at = models.DateTimeField(db_index=True)
    # From when the task was sent (beat, watch_run) to when a worker started it: the lag.
    waited_seconds = models.FloatField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id} {self.status}"

    @property
    def result_text(self) -> str:
        return json.dumps(self.result, sort_keys=True)


class WorkerHeartbeat(models.Model):
    """A worker as the watch last heard of it (the heartbeat task, its start and stop)."""

    hostname = models.CharField(max_length=255, unique=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_beat_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname


class ChannelKind(models.TextChoices):
    TEAMS = "teams", "Microsoft Teams"
    SLACK = "slack", "Slack"
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Signed JSON webhook"


class NotificationChannel(models.Model):
    """Where incident notices go: one tenant's (`tenant` set) or every tenant's (`tenant` null).

    `url` (Teams, Slack, webhook: whoever knows a Teams or Slack webhook URL can post to it) and
    `signing_secret` (webhook) are Fernet tokens under WATCH_ENCRYPTION_KEYS (`watch.crypto`):
    never plaintext at rest, never shown back. `recipients` (e-mail) is not a secret.
    """

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    tenant = models.ForeignKey(
        "tenants.ManagedTenant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notification_channels",
    )
    enabled = models.BooleanField(default=True)
    url = models.TextField(blank=True)
    signing_secret = models.TextField(blank=True)
    recipients = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=255)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def recipient_list(self) -> list[str]:
        return [value for value in self.recipients.split() if value]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One notice to one channel, and how sending it went (each attempt counted).

    One row per channel, incident and event (the constraint): an incident event announced twice
    is delivered once. Test notices have no incident, so each is a row of its own.
    """

    channel = models.ForeignKey(
        NotificationChannel, on_delete=models.CASCADE, related_name="deliveries"
    )
    incident_id = models.BigIntegerField(null=True, blank=True)
    event = models.CharField(max_length=16)
    notice = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "incident_id", "event"], name="watch_delivery_once_per_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.channel} ({self.status})"

"""The watch's rows: its delegated credentials, each task run, each worker's heartbeat."""

from __future__ import annotations

import json

from django.db import models

from connectors.enums import SyncProgress, label_for


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


class ScheduleRunOutcome(models.TextChoices):
    SKIPPED = "skipped", "Skipped"
    PENDING = "pending", "Sync requested, verifying"
    LANDED = "landed", "Landed"
    NOT_LANDED = "not_landed", "Not seen to land"
    FAILED = "failed", "Not sent"


class ScheduledSync(models.Model):
    """An Admin's schedule of quick or full syncs for some (or all) Exchange connectors of one
    tenant. It owns one django-celery-beat `PeriodicTask` (interval or time-zone-aware crontab)
    that sends `watch.scheduled_sync(schedule_id)`; `watch.schedules` keeps the two in step."""

    tenant_id = models.CharField(max_length=64, db_index=True)
    tenant_name = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=120)
    # Every Exchange connector the tenant has when the run starts, or the ones listed.
    all_connectors = models.BooleanField(default=False)
    connector_ids = models.JSONField(default=list, blank=True)
    connector_names = models.JSONField(default=dict, blank=True)  # id -> name, as picked
    sync_type = models.CharField(max_length=16)  # connectors.enums.ExchangeSyncType
    every_minutes = models.PositiveIntegerField(null=True, blank=True)
    cron = models.CharField(max_length=120, blank=True)  # "minute hour day month weekday"
    timezone = models.CharField(max_length=64, default="UTC")  # IANA, the admin's
    # Runs that fall inside the window (local time, on these weekdays, 0 = Monday) are skipped.
    window_start = models.TimeField(null=True, blank=True)
    window_end = models.TimeField(null=True, blank=True)
    window_days = models.JSONField(default=list, blank=True)
    paused = models.BooleanField(default=False)
    created_by = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "name"], name="unique_schedule_name")
        ]

    def __str__(self) -> str:
        return f"scheduled sync '{self.name}' ({self.tenant_id})"

    @property
    def via(self) -> str:
        """What the watch's audit entries say it acted for: this schedule and who made it."""
        return f"schedule '{self.name}' made by {self.created_by}"


class ScheduleRun(models.Model):
    """One run of a scheduled sync, keyed by its Celery task id (a redelivered task finds its own
    row and sends nothing twice). `results`: one entry per connector, {id, name, request (the
    audit outcome of the sync request), progress (connectors.enums.SyncProgress), message}."""

    schedule = models.ForeignKey(ScheduledSync, on_delete=models.CASCADE, related_name="runs")
    task_id = models.CharField(max_length=64, unique=True)
    started_at = models.DateTimeField(db_index=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=ScheduleRunOutcome.choices)
    message = models.TextField(blank=True)
    results = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.task_id} of {self.schedule_id}: {self.outcome}"

    @property
    def connector_results(self) -> list[dict[str, str]]:
        """Each connector's outcome with its label, as the list shows it."""
        return [
            {**entry, "label": label_for(SyncProgress, entry.get("progress"))}
            for entry in self.results
        ]

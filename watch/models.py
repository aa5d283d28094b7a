"""The watch's rows: its delegated credentials, each task run, each worker's heartbeat, the
tenants it sweeps and each sweep, each watched object's state history, the alert rules'
overrides, incidents and the sweeps they counted, notification channels and deliveries, and the
drift baselines and findings."""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connectors.enums import SyncProgress, label_for
from watch.observations import ObjectKind


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
    # Raised Celery's Retry (deferred by a throttling budget, a lock held elsewhere, a receiver
    # to try again): the same row runs again, attempts + 1.
    RETRYING = "retrying", "Retrying"
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


class Severity(models.TextChoices):
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class AlertRuleSetting(models.Model):
    """An override of one alert rule's defaults (`watch.alert_rules`), for every tenant
    (`tenant_id` blank) or one. A field left empty (None, "") keeps the wider setting."""

    rule = models.CharField(max_length=40)
    tenant_id = models.CharField(max_length=64, blank=True)
    enabled = models.BooleanField(null=True, blank=True)
    consecutive = models.PositiveSmallIntegerField(null=True, blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, blank=True)
    updated_at = models.DateTimeField()
    updated_by = models.CharField(max_length=255)

    class Meta:
        ordering = ["rule", "tenant_id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "tenant_id"], name="alert_rule_setting_once")
        ]

    def __str__(self) -> str:
        return f"{self.rule} for {self.tenant_id or 'every tenant'}"

    @property
    def summary(self) -> str:
        """What it changes, in the rules page's words ("off · 3 in a row · critical")."""
        parts = [] if self.enabled is None else ["on" if self.enabled else "off"]
        parts += [f"{self.consecutive} in a row"] if self.consecutive else []
        parts += [self.severity] if self.severity else []
        return " · ".join(parts) or "nothing (follows the wider setting)"


class IncidentState(models.TextChoices):
    # Bad observations counted, fewer than the rule's consecutive count: not shown, no notice.
    PENDING = "pending", "Pending"
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


ACTIVE_STATES = (IncidentState.PENDING, IncidentState.OPEN)


class Incident(models.Model):
    """One rule failing for one object while it lasts: (rule, tenant, kind, object) is the dedup
    key, and at most one incident per key is pending or open (a partial unique constraint, so
    two workers cannot open it twice). `timeline` is a compact list of small entries
    (`watch.incidents.TimelineEntry`); repeated sightings coalesce into one entry."""

    rule = models.CharField(max_length=40, db_index=True)
    tenant_id = models.CharField(max_length=64, db_index=True)
    tenant_name = models.CharField(max_length=255, blank=True)
    object_kind = models.CharField(max_length=32)
    object_id = models.CharField(max_length=255)
    object_name = models.CharField(max_length=255, blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    state = models.CharField(max_length=16, choices=IncidentState.choices)
    summary = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    seen = models.PositiveIntegerField(default=0)  # consecutive bad observations
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    last_sweep_key = models.CharField(max_length=200, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=255, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    snoozed_by = models.CharField(max_length=255, blank=True)
    timeline = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "tenant_id", "object_kind", "object_id"],
                condition=models.Q(state__in=["pending", "open"]),
                name="incident_active_once",
            )
        ]
        indexes = [models.Index(fields=["tenant_id", "state"], name="incident_tenant_state")]

    def __str__(self) -> str:
        return f"{self.rule} {self.object_name or self.object_id} ({self.state})"

    @property
    def snoozed(self) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > timezone.now()

    @property
    def timeline_entries(self) -> list[dict[str, Any]]:
        """The timeline with its times as datetimes (stored as ISO text), for the page."""
        times = ("at", "until")
        return [
            {**entry, **{k: parse_datetime(entry[k]) for k in times if k in entry}}
            for entry in self.timeline
        ]

    @property
    def kind_label(self) -> str:
        return ObjectKind(self.object_kind).label if self.object_kind in ObjectKind.values else ""


class AlertSweep(models.Model):
    """A sweep the alerts have counted: the unique (tenant, sweep key) makes a redelivered sweep
    (a worker died, another redid it) count once, however many workers receive it."""

    tenant_id = models.CharField(max_length=64)
    sweep_key = models.CharField(max_length=200)
    evaluated_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "sweep_key"], name="alert_sweep_once")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.sweep_key}"


class WatchedTenant(models.Model):
    """How the watch sweeps one managed tenant, when not as by default (every ready tenant,
    every WATCH_SWEEP_INTERVAL_SECONDS). `enabled` False leaves a tenant out; True keeps one in
    even when it is not ready (a tenant that becomes unreachable while watched stays watched,
    so its "unreachable" keeps being observed and its recovery seen)."""

    tenant = models.OneToOneField(
        "tenants.ManagedTenant", on_delete=models.CASCADE, related_name="watch_setting"
    )
    enabled = models.BooleanField(default=True)
    interval_seconds = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"watch setting of {self.tenant}"


class SweepStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Running"
    DEFERRED = "deferred", "Deferred (throttling budget)"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class SweepTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    RUN_NOW = "run_now", "Run now"


class Sweep(models.Model):
    """One tenant's sweep in one interval slot, unique on `sweep_key`: the dispatcher creates it
    when it sends the task (so a second dispatch of the slot sends nothing), the task marks it
    done; a delivery that finds it done does nothing, one that finds it unfinished (a worker
    died mid-sweep) does it again under the same key."""

    tenant = models.ForeignKey(
        "tenants.ManagedTenant", on_delete=models.CASCADE, related_name="sweeps"
    )
    sweep_key = models.CharField(max_length=160, unique=True)
    trigger = models.CharField(max_length=16, choices=SweepTrigger.choices)
    due_at = models.DateTimeField(db_index=True)  # its slot's start (when sent, run now)
    status = models.CharField(max_length=16, choices=SweepStatus.choices)
    task_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    graph_calls = models.PositiveIntegerField(default=0)  # HTTP requests (a $batch POST is one)
    graph_requests = models.PositiveIntegerField(default=0)  # counted against the limits
    observations = models.PositiveIntegerField(default=0)
    reachable = models.BooleanField(null=True)
    complete = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-due_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-due_at"], name="watch_sweep_tenant_due")]

    def __str__(self) -> str:
        return f"sweep {self.sweep_key} {self.status}"

    @property
    def lag_seconds(self) -> float | None:
        """How late it started against its slot."""
        if self.started_at is None:
            return None
        return max(0.0, (self.started_at - self.due_at).total_seconds())


class ObjectState(models.Model):
    """An object's state as the sweeps last saw it: the head of its history. A row per object,
    updated each sweep; a `StateChange` only when its state changes."""

    tenant_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=32, choices=ObjectKind.choices)
    object_id = models.CharField(max_length=160)
    name = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=32)
    since = models.DateTimeField()  # when it entered `state`
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    last_sweep_key = models.CharField(max_length=160, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["tenant_id", "kind", "name", "object_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "kind", "object_id"], name="watch_objectstate_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name or self.object_id}: {self.state}"


class StateChange(models.Model):
    """An object entered `state` at `at` (from `previous`; blank when first seen)."""

    tenant_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=32, choices=ObjectKind.choices)
    object_id = models.CharField(max_length=160)
    previous = models.CharField(max_length=32, blank=True)
    state = models.CharField(max_length=32)
    at = models.DateTimeField(db_index=True)
    sweep_key = models.CharField(max_length=160, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(
                fields=["tenant_id", "kind", "object_id", "at"], name="watch_change_object"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}: {self.previous or '—'} → {self.state} at {self.at}"


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


class BaselineSource(models.TextChoices):
    GRAPH = "graph", "A fresh Graph read"
    SWEEP = "sweep", "The latest sweep"


class DriftBaseline(models.Model):
    """The settings an Admin recorded as a tenant's expected state (watch.drift): one per tenant,
    its objects in BaselineItem rows. `kinds`: the object kinds recorded (a kind with no objects
    is still compared: an object that appears there is drift)."""

    tenant_id = models.CharField(max_length=64, unique=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=255)
    source = models.CharField(max_length=8, choices=BaselineSource.choices)
    kinds = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"drift baseline of {self.tenant_id}"


class BaselineItem(models.Model):
    """One object's recorded values (Graph's field names, as text); `recorded_at` moves when an
    Admin accepts a drift of it."""

    baseline = models.ForeignKey(DriftBaseline, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=32)
    object_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    values = models.JSONField(default=dict)
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["baseline", "kind", "object_id"], name="drift_baseline_item_once"
            )
        ]
        ordering = ["kind", "name", "object_id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.name or self.object_id}"


class DriftSnapshot(models.Model):
    """What the sweeps last saw of a tenant's compared objects (watch.drift's snapshot): each
    sweep replaces the kinds it read in full, so a partly failed sweep keeps the rest."""

    tenant_id = models.CharField(max_length=64, unique=True)
    observed_at = models.DateTimeField()
    sweep_key = models.CharField(max_length=200)
    seen = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"drift snapshot of {self.tenant_id} at {self.observed_at}"


class DriftSource(models.TextChoices):
    DASHBOARD = "dashboard", "Through this dashboard"
    OUTSIDE = "outside", "Changed outside the dashboard"


class ObjectChanges(models.Model):
    """Changes to one object the watch saw, each {"field", "before", "after", "source"} (and
    "audit_entry" when the dashboard made it), with Intune's event for those from elsewhere."""

    tenant_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=32)
    object_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=list)
    source = models.CharField(max_length=16, choices=DriftSource.choices)
    intune_event = models.JSONField(null=True, blank=True)
    intune_note = models.TextField(blank=True)
    sweep_key = models.CharField(max_length=200)

    class Meta:
        abstract = True

    @property
    def outside(self) -> bool:
        return self.source == DriftSource.OUTSIDE


class DriftFinding(ObjectChanges):
    """An object that differs from its baseline now (changes: baseline -> seen). Attributed once,
    when its changes first look like this (`fingerprint`); a sweep redone, or a later sweep
    seeing the same drift, keeps that attribution."""

    observed = models.JSONField(default=dict)  # the values seen, which Accept makes the baseline
    fingerprint = models.CharField(max_length=64)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "kind", "object_id"], name="drift_finding_once"
            )
        ]
        ordering = ["kind", "name", "object_id"]

    def __str__(self) -> str:
        return f"drift of {self.kind} {self.name or self.object_id}"


class SeenChange(ObjectChanges):
    """A change the watch saw on an object (from one sweep to the next, or from the baseline),
    kept for the object's history beside the dashboard's own audit entries."""

    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "kind", "object_id", "sweep_key"], name="seen_change_once"
            )
        ]
        indexes = [
            models.Index(fields=["tenant_id", "object_id", "seen_at"], name="seen_change_obj_idx")
        ]
        ordering = ["-seen_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.name or self.object_id} changed ({self.source})"


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

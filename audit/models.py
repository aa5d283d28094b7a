"""Audit entries: append-only rows, each carrying an HMAC over the hash of the one before it."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django.db.models.functions import Upper

from audit import chain


class AppendOnlyError(Exception):
    """Something tried to change or remove an audit entry, or to add one outside the chain."""


class Phase(models.TextChoices):
    ATTEMPT = "attempt", "Attempt"
    OUTCOME = "outcome", "Outcome"


class Outcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    # Graph may or may not have applied the write (a timeout, a dropped connection, a crash).
    UNKNOWN = "unknown", "Outcome unknown"


class Channel(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    # Background work: the watch acting for the admin who signed in for it.
    WATCH = "watch", "Watch"


class TargetType(models.TextChoices):
    """The objects the dashboard changes; `?target_type=` in history links uses these values."""

    EXCHANGE_CONNECTOR = "exchangeConnector", "Exchange connector"
    APP_PROXY_CONNECTOR = "appProxyConnector", "App Proxy connector"
    CONNECTOR_GROUP = "connectorGroup", "Connector group"
    WATCH_CREDENTIAL = "watchCredential", "Watch credentials"
    DRIFT_BASELINE = "driftBaseline", "Drift baseline"
    INCIDENT = "incident", "Incident"
    ALERT_RULE = "alertRule", "Alert rule"
    NOTIFICATION_CHANNEL = "notificationChannel", "Notification channel"
    SCHEDULED_SYNC = "scheduledSync", "Scheduled sync"


class Action(models.TextChoices):
    """Known actions, `<targetType>.<verb>`; an action not listed here is shown as it is."""

    EXCHANGE_CONNECTOR_CREATE = "exchangeConnector.create", "Create Exchange connector"
    EXCHANGE_CONNECTOR_UPDATE = "exchangeConnector.update", "Edit Exchange connector"
    EXCHANGE_CONNECTOR_DELETE = "exchangeConnector.delete", "Delete Exchange connector"
    EXCHANGE_CONNECTOR_SYNC = "exchangeConnector.sync", "Sync Exchange connector"
    APP_PROXY_CONNECTOR_UPDATE = "appProxyConnector.update", "Edit App Proxy connector"
    APP_PROXY_CONNECTOR_MOVE = "appProxyConnector.move", "Move App Proxy connector"
    CONNECTOR_GROUP_CREATE = "connectorGroup.create", "Create connector group"
    CONNECTOR_GROUP_UPDATE = "connectorGroup.update", "Edit connector group"
    CONNECTOR_GROUP_DELETE = "connectorGroup.delete", "Delete connector group"
    WATCH_CREDENTIAL_ENABLE = "watchCredential.enable", "Turn the watch on"
    WATCH_CREDENTIAL_REVOKE = "watchCredential.revoke", "Revoke the watch's credentials"
    WATCH_CREDENTIAL_LOST = "watchCredential.needsSignIn", "Watch credentials need sign-in"
    DRIFT_BASELINE_RECORD = "driftBaseline.record", "Record the drift baseline"
    # On the object whose drift was accepted, so its history shows it.
    DRIFT_ACCEPT = "drift.accept", "Accept a drift into the baseline"
    # On the object: the baseline took a change the dashboard's own audited write made.
    DRIFT_FOLLOW = "drift.followDashboard", "Baseline follows a dashboard change"
    INCIDENT_ACKNOWLEDGE = "incident.acknowledge", "Acknowledge incident"
    INCIDENT_SNOOZE = "incident.snooze", "Snooze incident"
    ALERT_RULE_UPDATE = "alertRule.update", "Change alert rule"
    ALERT_RULE_RESET = "alertRule.reset", "Reset alert rule"
    NOTIFICATION_CHANNEL_CREATE = "notificationChannel.create", "Create notification channel"
    NOTIFICATION_CHANNEL_UPDATE = "notificationChannel.update", "Edit notification channel"
    NOTIFICATION_CHANNEL_DELETE = "notificationChannel.delete", "Delete notification channel"
    SCHEDULED_SYNC_CREATE = "scheduledSync.create", "Create scheduled sync"
    SCHEDULED_SYNC_UPDATE = "scheduledSync.update", "Edit scheduled sync"
    SCHEDULED_SYNC_PAUSE = "scheduledSync.pause", "Pause scheduled sync"
    SCHEDULED_SYNC_RESUME = "scheduledSync.resume", "Resume scheduled sync"
    SCHEDULED_SYNC_DELETE = "scheduledSync.delete", "Delete scheduled sync"


def action_label(value: str) -> str:
    return Action(value).label if value in Action.values else value


def target_type_label(value: str) -> str:
    return TargetType(value).label if value in TargetType.values else value


def _refuse(what: str) -> NoReturn:
    raise AppendOnlyError(f"The audit log is append-only: {what} is refused.")


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Reads only: every bulk path that could rewrite or drop rows, or bypass the chain, refuses."""

    def update(self, **kwargs: Any) -> NoReturn:
        _refuse("updating entries")

    def delete(self) -> NoReturn:
        _refuse("deleting entries")

    def _raw_delete(self, using: Any) -> NoReturn:
        _refuse("deleting entries")

    def bulk_update(self, objs: Any, fields: Any, batch_size: Any = None) -> NoReturn:
        _refuse("updating entries")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("adding entries outside audit_record()")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("updating entries")


class AuditEntry(models.Model):
    """One row of the log. A Graph write has two: its attempt, then its outcome.

    Both rows share `correlation_id`, which is also the `client-request-id` sent to Graph; the
    outcome row points at its attempt (`attempt`), so the viewer joins them in one query.
    Rows are written only by `audit.services.audit_record`, which takes the chain lock, links
    `prev_hash` to the newest row and computes `hash` over the canonical JSON of the row.
    """

    created_at = models.DateTimeField(db_index=True)
    correlation_id = models.UUIDField(db_index=True)
    phase = models.CharField(max_length=16, choices=Phase.choices)
    attempt = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outcome_entry",
    )

    actor_oid = models.CharField("actor object id", max_length=64)
    actor_upn = models.CharField("actor user principal name", max_length=255)
    actor_name = models.CharField("actor name", max_length=255)
    tenant_id = models.CharField(max_length=64)

    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=255)
    target_name = models.CharField(max_length=255, blank=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    reason = models.TextField(blank=True)

    # Blank on attempt rows: an attempt has no outcome of its own.
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    graph_status = models.PositiveSmallIntegerField(null=True, blank=True)
    graph_code = models.CharField(max_length=128, blank=True)
    graph_request_id = models.CharField(max_length=64, blank=True)
    # Intune's "Operation ID" / "Activity ID" of a failed request, when Graph gave them.
    graph_operation_id = models.CharField(max_length=64, blank=True)
    graph_activity_id = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    client_ip = models.CharField(max_length=45, blank=True)
    user_agent = models.TextField(blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEB)

    # Unique: two rows linking to the same predecessor would be a fork in the chain.
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)
    # The AUDIT_CHAIN_KEY_ID of the key `hash` was computed with; blank on legacy (unkeyed,
    # SHA-256) entries written before the chain was keyed.
    key_id = models.CharField(max_length=32, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["-id"]
        # Every filter and sort of the viewer has one; each ends in `id`, the time order (rows
        # are stamped under the chain lock, so id order is time order). The search's trigram
        # index is PostgreSQL-only (migration audit.0004).
        indexes = [
            models.Index(fields=["action", "id"], name="audit_action_id_idx"),
            models.Index(fields=["actor_upn", "id"], name="audit_actor_id_idx"),
            models.Index(Upper("actor_upn"), name="audit_actor_upn_ci_idx"),
            models.Index(Upper("actor_oid"), name="audit_actor_oid_ci_idx"),
            models.Index(Upper("actor_name"), name="audit_actor_name_ci_idx"),
            models.Index(fields=["target_type", "target_id", "id"], name="audit_target_idx"),
            models.Index(fields=["target_id"], name="audit_target_id_idx"),
            models.Index(
                fields=["target_type", "target_name", "target_id", "id"],
                name="audit_target_sort_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.phase} {self.action} {self.target_type}/{self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse(f"changing entry #{self.pk}")
        keys = chain.configured_keys()
        # New entries are keyed with the current key: a legacy (unkeyed) form is refused.
        if self.key_id != keys.current_id or not chain.same_digest(
            self.hash, chain.entry_hash(self, keys)
        ):
            _refuse("adding an entry outside audit_record()")
        super().save(*args, force_insert=True, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(f"deleting entry #{self.pk}")

    @property
    def outcome_row(self) -> AuditEntry | None:
        """This attempt's outcome row, or None (no outcome yet, or this is an outcome)."""
        try:
            return self.outcome_entry
        except AuditEntry.DoesNotExist:
            return None

    @property
    def result_row(self) -> AuditEntry | None:
        """The row holding the action's result: the outcome row, or this row if it is one."""
        return self if self.phase == Phase.OUTCOME else self.outcome_row

    @property
    def shown_target_id(self) -> str:
        """A create's attempt has no id; its outcome has the one Graph assigned."""
        outcome = self.outcome_row
        return self.target_id or (outcome.target_id if outcome is not None else "")

    @property
    def action_label(self) -> str:
        return action_label(self.action)

    @property
    def target_type_label(self) -> str:
        return target_type_label(self.target_type)

    @property
    def changed_fields(self) -> list[str]:
        """Fields named in before or after, in the order they were given."""
        names = list(self.before or {})
        names += [name for name in (self.after or {}) if name not in names]
        return names

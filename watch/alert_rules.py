"""The alert rules: what counts as bad for each kind of object, and how bad.

Each rule judges one observation: a severity (bad) or None (fine). Defaults live here; an Admin
overrides them for every tenant or one (`AlertRuleSetting`, the rules page): enabled, how many
consecutive bad observations open an incident (default WATCH_ALERT_CONSECUTIVE), and a fixed
severity instead of the rule's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.models import Action, TargetType
from audit.services import Actor, Target, audit_local_change
from connectors.enums import ExchangeConnectorStatus
from connectors.health import UNHEALTHY_AFTER, WARNING_AFTER, Health
from watch.models import AlertRuleSetting, Severity
from watch.observations import ObjectKind, Observation

Judge = Callable[[Observation, datetime], Severity | None]


@dataclass(frozen=True)
class Rule:
    key: str
    kind: str  # ObjectKind
    title: str
    condition: str  # what makes it fire, in the rules page's words
    judge: Judge
    summary: Callable[[Observation], str]
    # Bad observations in a row before an incident opens; None: WATCH_ALERT_CONSECUTIVE.
    consecutive: int | None = None


def _exchange_disconnected(observation: Observation, now: datetime) -> Severity | None:
    status = observation.details.get("status", "")
    return Severity.CRITICAL if status == ExchangeConnectorStatus.DISCONNECTED else None


def _exchange_stale(observation: Observation, now: datetime) -> Severity | None:
    """Intune's marks (connectors.health): over 1 day warning, 3 days or more critical. Without
    the last sync's time, the health the sweep computed with the same marks."""
    if observation.details.get("status") == ExchangeConnectorStatus.DISCONNECTED:
        return None  # the disconnected rule's, not this one's
    if "last_sync" in observation.details:
        raw = observation.details["last_sync"]
        last_sync = parse_datetime(raw) if isinstance(raw, str) else None
        if last_sync is None:
            return None  # never synced: shown as such on the pages, not an outage
        age = now - last_sync
        if age >= UNHEALTHY_AFTER:
            return Severity.CRITICAL
        return Severity.WARNING if age > WARNING_AFTER else None
    return {Health.UNHEALTHY: Severity.CRITICAL, Health.WARNING: Severity.WARNING}.get(
        observation.state  # type: ignore[call-overload]
    )


def _state_is(**severities: Severity) -> Judge:
    def judge(observation: Observation, now: datetime) -> Severity | None:
        return severities.get(observation.state)

    return judge


RULES: dict[str, Rule] = {
    rule.key: rule
    for rule in (
        Rule(
            "exchange_disconnected",
            ObjectKind.EXCHANGE_CONNECTOR,
            "Exchange connector disconnected",
            "Its status is disconnected (critical).",
            _exchange_disconnected,
            lambda o: f"Exchange connector {o.name or o.object_id} is disconnected.",
        ),
        Rule(
            "exchange_sync_stale",
            ObjectKind.EXCHANGE_CONNECTOR,
            "Exchange connector not syncing",
            "Last sync over 1 day ago (warning), 3 days or more (critical): Intune's marks.",
            _exchange_stale,
            lambda o: (
                f"Exchange connector {o.name or o.object_id} has not synced since "
                f"{o.details.get('last_sync') or 'its last sync'}."
            ),
        ),
        Rule(
            "app_proxy_inactive",
            ObjectKind.APP_PROXY_CONNECTOR,
            "App Proxy connector inactive",
            "Its status is inactive (warning).",
            _state_is(inactive=Severity.WARNING),
            lambda o: f"App Proxy connector {o.name or o.object_id} is inactive.",
        ),
        Rule(
            "group_below_two",
            ObjectKind.CONNECTOR_GROUP,
            "Connector group below two active connectors",
            "One active connector (warning: at risk); none (critical: its applications are down).",
            _state_is(at_risk=Severity.WARNING, down=Severity.CRITICAL),
            lambda o: (
                f"Connector group {o.name or o.object_id} has no active connector: its "
                "applications are down."
                if o.state == "down"
                else f"Connector group {o.name or o.object_id} has one active connector: at risk."
            ),
        ),
        Rule(
            "watch_needs_sign_in",
            ObjectKind.CREDENTIAL,
            "The watch's credentials need sign-in",
            "A refresh was refused: an Admin signs in for the watch again (critical).",
            _state_is(needs_sign_in=Severity.CRITICAL),
            lambda o: (
                "The watch's credentials need sign-in: an Admin signs in for it on the watch page."
            ),
            # A state the identity provider declared, not a flap: the first sighting opens it.
            consecutive=1,
        ),
        Rule(
            "tenant_unreachable",
            ObjectKind.TENANT,
            "Tenant unreachable",
            "The sweep could not read the tenant (critical).",
            _state_is(unreachable=Severity.CRITICAL),
            lambda o: (
                f"Tenant {o.name or o.object_id} could not be read"
                + (f": {o.details['error']}" if o.details.get("error") else ".")
            ),
        ),
        Rule(
            "scheduled_sync_missed",
            ObjectKind.SCHEDULED_SYNC,
            "Scheduled sync did not land",
            "A scheduled sync was not confirmed by Intune (warning).",
            _state_is(not_landed=Severity.WARNING),
            lambda o: f"Scheduled sync {o.name or o.object_id} did not land.",
            # Each run is an event (a night's sync), not a state that flaps: the first miss.
            consecutive=1,
        ),
    )
}
RULE_CHOICES = [(rule.key, rule.title) for rule in RULES.values()]
CONSECUTIVE_MAX = 50


@dataclass(frozen=True)
class Effective:
    """A rule's settings for one tenant, and where each came from."""

    rule: Rule
    enabled: bool
    consecutive: int
    severity: str  # "" = the rule's own per state
    overridden: bool = False

    def severity_for(self, judged: Severity) -> Severity:
        return Severity(self.severity) if self.severity else judged


def _apply(effective: Effective, setting: AlertRuleSetting) -> Effective:
    return Effective(
        rule=effective.rule,
        enabled=effective.enabled if setting.enabled is None else setting.enabled,
        consecutive=setting.consecutive or effective.consecutive,
        severity=setting.severity or effective.severity,
        overridden=True,
    )


def effective_rules(tenant_id: str = "") -> dict[str, Effective]:
    """Every rule as it applies in `tenant_id` ("": the global settings): defaults, then the
    global override, then the tenant's."""
    found = {
        rule.key: Effective(rule, True, rule.consecutive or settings.WATCH_ALERT_CONSECUTIVE, "")
        for rule in RULES.values()
    }
    scopes = [""] if not tenant_id else ["", tenant_id]
    overrides: Iterable[AlertRuleSetting] = AlertRuleSetting.objects.filter(
        tenant_id__in=scopes, rule__in=RULES
    ).order_by("tenant_id")  # "" (global) first, then the tenant's
    for setting in overrides:
        found[setting.rule] = _apply(found[setting.rule], setting)
    return found


def rules_for_kind(kind: str) -> list[Rule]:
    return [rule for rule in RULES.values() if rule.kind == kind]


# -- overrides, set by Admins on the rules page (local changes, audited) -------------------------


def _record(actor: Actor, action: str, rule: str, tenant_id: str, **values: object) -> None:
    target = Target(
        type=TargetType.ALERT_RULE,
        id=f"{rule}:{tenant_id}" if tenant_id else rule,
        name=f"{RULES[rule].title} ({tenant_id or 'every tenant'})",
    )
    audit_local_change(actor=actor, action=action, target=target, after=values)


def rule_setting_save(
    *,
    actor: Actor,
    rule: str,
    tenant_id: str,
    enabled: bool | None,
    consecutive: int | None,
    severity: str,
) -> AlertRuleSetting:
    """Set a rule's override for every tenant ("") or one; audited. The next sweep uses it."""
    with transaction.atomic():
        setting, _ = AlertRuleSetting.objects.update_or_create(
            rule=rule,
            tenant_id=tenant_id,
            defaults={
                "enabled": enabled,
                "consecutive": consecutive,
                "severity": severity,
                "updated_at": timezone.now(),
                "updated_by": actor.upn,
            },
        )
        _record(
            actor,
            Action.ALERT_RULE_UPDATE,
            rule,
            tenant_id,
            enabled=enabled,
            consecutive=consecutive,
            severity=severity,
        )
    return setting


def rule_setting_reset(*, actor: Actor, rule: str, tenant_id: str) -> bool:
    """Drop an override (the wider setting applies again); audited. False if there was none."""
    with transaction.atomic():
        deleted, _ = AlertRuleSetting.objects.filter(rule=rule, tenant_id=tenant_id).delete()
        if deleted:
            _record(actor, Action.ALERT_RULE_RESET, rule, tenant_id)
    return bool(deleted)

"""What the alerts pages and the overview read: incidents filtered and sorted, open ones counted,
and each rule's settings as they apply."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from watch.alert_rules import RULES, Effective, effective_rules
from watch.models import AlertRuleSetting, Incident, IncidentState

SORT_FIELDS = {
    "opened": "opened_at",
    "severity": "severity",  # critical before warning, ascending
    "tenant": "tenant_name",
    "rule": "rule",
    "object": "object_name",
    "resolved": "resolved_at",
}
DEFAULT_SORT = "-opened"


def _snoozed(now: object) -> Q:
    return Q(snoozed_until__gt=now)


def incident_list(
    *, tenant: str = "", state: str = "", severity: str = "", rule: str = "", sort: str = ""
) -> QuerySet[Incident]:
    """Incidents people see (never the pending ones: not open yet). `state` "" is every open
    one; "unacknowledged", "acknowledged", "snoozed" narrow that; "resolved"; "all"."""
    now = timezone.now()
    incidents = Incident.objects.exclude(state=IncidentState.PENDING)
    if state == "resolved":
        incidents = incidents.filter(state=IncidentState.RESOLVED)
    elif state != "all":
        incidents = incidents.filter(state=IncidentState.OPEN)
        if state == "unacknowledged":
            incidents = incidents.filter(acknowledged_at__isnull=True)
        elif state == "acknowledged":
            incidents = incidents.filter(acknowledged_at__isnull=False)
        elif state == "snoozed":
            incidents = incidents.filter(_snoozed(now))
    if tenant:
        incidents = incidents.filter(tenant_id=tenant)
    if severity:
        incidents = incidents.filter(severity=severity)
    if rule:
        incidents = incidents.filter(rule=rule)
    sort = sort or DEFAULT_SORT
    field = F(SORT_FIELDS[sort.lstrip("-")])
    first = field.desc(nulls_last=True) if sort.startswith("-") else field.asc(nulls_last=True)
    return incidents.order_by(first, F("opened_at").desc(nulls_last=True), "-id")


def incident_get(incident_id: int) -> Incident | None:
    return Incident.objects.exclude(state=IncidentState.PENDING).filter(pk=incident_id).first()


@dataclass(frozen=True)
class OpenIncidents:
    """The overview's card: open incidents that need attention (not snoozed), by severity."""

    critical: int
    warning: int
    snoozed: int
    newest: list[Incident]

    @property
    def total(self) -> int:
        return self.critical + self.warning


NEWEST_SHOWN = 5


def open_incidents() -> OpenIncidents:
    now = timezone.now()
    open_ = Incident.objects.filter(state=IncidentState.OPEN)
    counts = open_.aggregate(
        critical=Count("id", filter=Q(severity="critical") & ~_snoozed(now)),
        warning=Count("id", filter=Q(severity="warning") & ~_snoozed(now)),
        snoozed=Count("id", filter=_snoozed(now)),
    )
    newest = list(open_.exclude(_snoozed(now)).order_by("-opened_at", "-id")[:NEWEST_SHOWN])
    return OpenIncidents(newest=newest, **counts)


@dataclass(frozen=True)
class RuleRow:
    effective: Effective  # as it applies to every tenant
    overrides: list[AlertRuleSetting]  # the one for every tenant first, then each tenant's


def rule_rows() -> list[RuleRow]:
    effective = effective_rules()
    overrides: dict[str, list[AlertRuleSetting]] = {key: [] for key in RULES}
    for setting in AlertRuleSetting.objects.filter(rule__in=RULES).order_by("tenant_id"):
        overrides[setting.rule].append(setting)
    return [RuleRow(effective[key], overrides[key]) for key in RULES]

"""A realistic, repeatable sandbox tenant: connectors, connector groups and audit events.

Every seeded entity has a fixed id derived from its kind and index, and its values come from
an RNG seeded the same way, so a run creates only what is missing and two runs never differ.
The first entities of each kind are hand-picked so the default tenant shows every state the
dashboard must handle; the rest are drawn at random with realistic weights.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from sandbox.directory import DEMO_USERS
from sandbox.models import (
    AppProxyConnector,
    AuditEvent,
    ConnectorGroup,
    ConnectorGroupType,
    ExchangeConnector,
    RequestLog,
)
from sandbox.scope import current_tenant, home_tenant_id

DEFAULT_EXCHANGE = 12
DEFAULT_APP_PROXY = 9
DEFAULT_GROUPS = 6
DEFAULT_AUDIT_EVENTS = 150
AUDIT_DAYS = 30
NAMESPACE = uuid.UUID("5a4d0b0e-5eed-4c0d-9e00-5a4db0c5e7a1")
# The one Exchange connector that accepts syncs and never completes one (its index).
BROKEN_EXCHANGE_INDEX = 4


def _tenant_part() -> str:
    """The partner tenant's entities keep their ids; each customer's differ from them."""
    tenant = current_tenant()
    return "" if tenant == home_tenant_id() else f"{tenant}:"


def seeded_id(kind: str, index: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{_tenant_part()}{kind}:{index}"))


def _rng(kind: str, index: int) -> random.Random:
    return random.Random(f"sandbox-seed:{_tenant_part()}{kind}:{index}")


@dataclass(frozen=True)
class Organization:
    name: str  # the Exchange organization
    ad_domain: str
    mail_domain: str


ORGANIZATIONS = (
    Organization("Contoso", "contoso.local", "contoso.com"),
    Organization("Fabrikam", "corp.fabrikam.com", "fabrikam.com"),
    Organization("Northwind Traders", "nwtraders.local", "northwindtraders.com"),
    Organization("Woodgrove Bank", "woodgrove.local", "woodgrovebank.com"),
)
# Exchange Server 2019 / 2016 / 2013 cumulative-update builds; hosted ones report EXO builds.
ON_PREMISES_VERSIONS = ("15.2.1118.7", "15.2.1258.12", "15.2.986.5", "15.1.2507.6", "15.0.1497.2")
HOSTED_VERSIONS = ("15.20.7409.43", "15.20.6699.25")
APP_PROXY_VERSIONS = ("1.5.3437.0", "1.5.3437.0", "1.5.3359.0", "1.5.2475.0")


@dataclass(frozen=True)
class ExchangeProfile:
    status: str
    connector_type: str
    # How long ago the last sync was; None: never synced.
    last_sync_ago: timedelta | None
    organization: int = 0


# Hand-picked so the default tenant shows every status and type, fresh and stale syncs (> 1
# day and >= 3 days), a never-synced pending connector and, at BROKEN_EXCHANGE_INDEX, a
# connected one whose sync is stuck.
EXCHANGE_SHOWCASE = (
    ExchangeProfile("connected", "onPremises", timedelta(minutes=7)),
    ExchangeProfile("connected", "hosted", timedelta(minutes=26), organization=1),
    ExchangeProfile("disconnected", "onPremises", timedelta(days=4, hours=3)),
    ExchangeProfile("connectionPending", "onPremises", None, organization=2),
    ExchangeProfile("connected", "onPremises", timedelta(days=1, hours=6)),
    ExchangeProfile("none", "serviceToService", timedelta(days=1, hours=19), organization=3),
    ExchangeProfile("connected", "dedicated", timedelta(hours=2, minutes=40)),
    ExchangeProfile("disconnected", "dedicated", timedelta(days=19), organization=1),
    ExchangeProfile("connected", "serviceToService", timedelta(minutes=48)),
    ExchangeProfile("connected", "onPremises", timedelta(hours=5, minutes=12), organization=2),
    ExchangeProfile("connected", "onPremises", timedelta(hours=11)),
    ExchangeProfile("disconnected", "hosted", timedelta(days=63), organization=3),
)


def _random_exchange_profile(rng: random.Random) -> ExchangeProfile:
    status = rng.choices(
        ["connected", "disconnected", "connectionPending", "none"], weights=[70, 15, 7, 8]
    )[0]
    connector_type = rng.choices(
        ["onPremises", "hosted", "dedicated", "serviceToService"], weights=[72, 14, 8, 6]
    )[0]
    if status == "connectionPending" and rng.random() < 0.6:
        ago = None
    elif status == "connected":
        # Mostly within the day, with a tail of stale ones.
        ago = timedelta(minutes=rng.choice([rng.randint(2, 600), rng.randint(2, 3000)]))
    else:
        ago = timedelta(hours=rng.randint(26, 24 * 90))
    return ExchangeProfile(status, connector_type, ago, rng.randrange(len(ORGANIZATIONS)))


def _exchange_connector(index: int, now: datetime) -> ExchangeConnector:
    rng = _rng("exchange", index)
    profile = (
        EXCHANGE_SHOWCASE[index]
        if index < len(EXCHANGE_SHOWCASE)
        else _random_exchange_profile(rng)
    )
    org = ORGANIZATIONS[profile.organization]
    number = index + 1
    hosted = profile.connector_type == "hosted"
    if profile.last_sync_ago is None:
        last_sync = None
    else:
        jitter = timedelta(seconds=rng.randint(0, 59))
        last_sync = now - profile.last_sync_ago - jitter
    alias = f"svc-intunexch{number:02d}"
    return ExchangeConnector(
        id=seeded_id("exchange", index),
        last_sync_date_time=last_sync,
        status=profile.status,
        primary_smtp_address=f"{alias}@{org.mail_domain}",
        server_name=f"EXCH-{'HYB' if hosted else 'MBX'}{number:02d}.{org.ad_domain}",
        connector_server_name=f"INTUNE-ECS{number:02d}.{org.ad_domain}",
        exchange_connector_type=profile.connector_type,
        version=rng.choice(HOSTED_VERSIONS if hosted else ON_PREMISES_VERSIONS),
        exchange_alias=alias,
        exchange_organization=org.name,
        sync_broken=index == BROKEN_EXCHANGE_INDEX,
        created_at=now - timedelta(days=400) + timedelta(minutes=index),
    )


@dataclass(frozen=True)
class GroupProfile:
    name: str
    region: str
    connector_group_type: str = ConnectorGroupType.APPLICATION_PROXY
    is_default: bool = False
    application_count: int = 0


# The default group, one group per region, one with a single connector (aus), an empty one
# (ind) and an empty one with no region (Graph shows null).
GROUP_SHOWCASE = (
    GroupProfile("Default", "nam", is_default=True, application_count=4),
    GroupProfile("EU Web Apps", "eur", application_count=6),
    GroupProfile("APAC Intranet", "asia", application_count=2),
    GroupProfile("Sydney Branch", "aus", application_count=1),
    GroupProfile("India Dev", "ind"),
    GroupProfile("Unassigned region", ""),
)
REGIONS = ("nam", "eur", "aus", "asia", "ind")
# Groups whose members are hand-picked: the single-connector group and the two empty groups
# never receive the randomly placed connectors.
FIXED_MEMBERSHIP_GROUPS = frozenset({3, 4, 5})
APP_PROXY_SHOWCASE_GROUPS = (0, 0, 0, 1, 1, 1, 2, 2, 3)
SITES = {"nam": "SEA", "eur": "AMS", "asia": "SIN", "aus": "SYD", "ind": "BLR", "": "HQ"}
IP_BLOCKS = {
    "nam": "203.0.113",
    "eur": "198.51.100",
    "asia": "192.0.2",
    "aus": "203.0.113",
    "ind": "198.51.100",
    "": "192.0.2",
}


def _group(index: int, now: datetime) -> ConnectorGroup:
    if index < len(GROUP_SHOWCASE):
        profile = GROUP_SHOWCASE[index]
    else:
        rng = _rng("group", index)
        region = rng.choice(REGIONS)
        profile = GroupProfile(
            f"{SITES[region]} Apps {index - len(GROUP_SHOWCASE) + 1:02d}",
            region,
            application_count=rng.randint(0, 8),
        )
    return ConnectorGroup(
        id=seeded_id("group", index),
        name=profile.name,
        connector_group_type=profile.connector_group_type,
        is_default=profile.is_default,
        region=profile.region,
        application_count=profile.application_count,
        created_at=now - timedelta(days=300) + timedelta(minutes=index),
    )


def _group_index_for_connector(index: int, group_count: int) -> int:
    if index < len(APP_PROXY_SHOWCASE_GROUPS) and APP_PROXY_SHOWCASE_GROUPS[index] < group_count:
        return APP_PROXY_SHOWCASE_GROUPS[index]
    open_groups = [i for i in range(group_count) if i not in FIXED_MEMBERSHIP_GROUPS]
    return open_groups[index % len(open_groups)] if open_groups else 0


def _app_proxy_connector(index: int, group: ConnectorGroup, now: datetime) -> AppProxyConnector:
    rng = _rng("app-proxy", index)
    # One inactive connector among the showcase (an EU one), then about one in eight.
    inactive = index == 5 or (index >= len(APP_PROXY_SHOWCASE_GROUPS) and rng.random() < 0.12)
    return AppProxyConnector(
        id=seeded_id("app-proxy", index),
        machine_name=f"{SITES[group.region]}-APPPRX{index + 1:02d}.contoso.local",
        external_ip=f"{IP_BLOCKS[group.region]}.{10 + index % 240}",
        status="inactive" if inactive else "active",
        version=APP_PROXY_VERSIONS[0] if index == 0 else rng.choice(APP_PROXY_VERSIONS),
        group=group,
        created_at=now - timedelta(days=200) + timedelta(minutes=index),
    )


@dataclass(frozen=True)
class AuditTemplate:
    category: str
    component: str
    operation: str  # Create, Patch, Delete or Action
    activity: str
    resource_type: str
    targets: tuple[str, ...]
    # (property, old, new) choices for the modified properties, empty for none.
    changes: tuple[tuple[str, str | None, str | None], ...] = ()


AUDIT_TEMPLATES = (
    AuditTemplate(
        "Other",
        "Other",
        "Action",
        "sync DeviceManagementExchangeConnector",
        "DeviceManagementExchangeConnector",
        ("exchange",),
        (("syncType", None, "deltaSync"), ("syncType", None, "fullSync")),
    ),
    AuditTemplate(
        "Other",
        "Other",
        "Patch",
        "Patch DeviceManagementExchangeConnector",
        "DeviceManagementExchangeConnector",
        ("exchange",),
        (
            ("exchangeAlias", "IntuneConnector", "svc-intunexch"),
            ("primarySmtpAddress", "intune@contoso.com", "svc-intunexch@contoso.com"),
        ),
    ),
    AuditTemplate(
        "DeviceConfiguration",
        "DeviceConfiguration",
        "Patch",
        "Patch DeviceConfiguration",
        "DeviceConfiguration",
        ("Windows 11 - BitLocker baseline", "iOS - Corporate Wi-Fi", "Android Enterprise - Work"),
        (("passwordMinimumLength", "8", "12"), ("bitLockerEncryptDevice", "false", "true")),
    ),
    AuditTemplate(
        "DeviceConfiguration",
        "DeviceConfiguration",
        "Create",
        "Create DeviceConfiguration",
        "DeviceConfiguration",
        ("macOS - FileVault", "Windows 11 - Edge settings"),
    ),
    AuditTemplate(
        "Compliance",
        "DeviceCompliancePolicy",
        "Patch",
        "Patch DeviceCompliancePolicy",
        "DeviceCompliancePolicy",
        ("Windows - Baseline compliance", "iOS - Minimum OS 17"),
        (("osMinimumVersion", "16.0", "17.0"), ("secureBootEnabled", "false", "true")),
    ),
    AuditTemplate(
        "Application",
        "MobileApp",
        "Create",
        "Create MobileApp",
        "MobileApp",
        ("Company Portal", "Microsoft Teams", "Microsoft Authenticator"),
    ),
    AuditTemplate(
        "Application",
        "MobileApp",
        "Patch",
        "Patch MobileAppAssignment",
        "MobileAppAssignment",
        ("Microsoft Edge", "Microsoft Outlook"),
        (("intent", "available", "required"),),
    ),
    AuditTemplate(
        "Role",
        "RoleBasedAccessControl",
        "Create",
        "Create RoleAssignment",
        "RoleAssignment",
        ("Help Desk Operator - EU", "Read Only Operator - Auditors"),
    ),
    AuditTemplate(
        "Enrollment",
        "Enrollment",
        "Patch",
        "Patch DeviceEnrollmentConfiguration",
        "DeviceEnrollmentConfiguration",
        ("All users and all devices", "Windows Hello for Business"),
        (("deviceEnrollmentLimit", "5", "10"),),
    ),
    AuditTemplate(
        "Device",
        "ManagedDevices",
        "Action",
        "syncDevice ManagedDevice",
        "ManagedDevice",
        ("DESKTOP-4F2K9QL", "LAPTOP-8RM3T0A", "iPhone de Chloé", "Galaxy-S23-MG"),
    ),
    AuditTemplate(
        "Device",
        "ManagedDevices",
        "Action",
        "retire ManagedDevice",
        "ManagedDevice",
        ("LAPTOP-1QZ7W2E", "iPad-Warehouse-03"),
    ),
)
AUDIT_WEIGHTS = (18, 6, 12, 4, 8, 5, 7, 3, 4, 14, 3)
INTUNE_PORTAL_APP_ID = "5926fc8e-304e-4f59-8bed-58ca97cc39a4"


def _actor(rng: random.Random, template: AuditTemplate) -> dict[str, Any]:
    # The operator only syncs; everything else is the admin's doing.
    user = DEMO_USERS[1] if template.operation == "Action" and rng.random() < 0.5 else DEMO_USERS[0]
    return {
        "type": "ItPro",
        "auditActorType": "ItPro",
        "userPermissions": ["*"],
        "applicationId": INTUNE_PORTAL_APP_ID,
        "applicationDisplayName": "Microsoft Intune portal extension",
        "userPrincipalName": user.upn,
        "servicePrincipalName": None,
        "ipAddress": f"198.51.100.{rng.randint(20, 60)}",
        "userId": user.oid,
        "userRoleScopeTags": [{"displayName": "Default", "roleScopeTagId": "0"}],
        "remoteTenantId": None,
        "remoteUserId": None,
    }


def _audit_event(
    index: int, count: int, now: datetime, exchange: list[ExchangeConnector]
) -> AuditEvent:
    rng = _rng("audit", index)
    template = rng.choices(AUDIT_TEMPLATES, weights=AUDIT_WEIGHTS)[0]
    if template.targets == ("exchange",) and exchange:
        target = exchange[rng.randrange(len(exchange))]
        resource_id, display_name = target.id, target.server_name
    else:
        display_name = rng.choice(
            template.targets if template.targets != ("exchange",) else ("EXCH-MBX01",)
        )
        resource_id = str(uuid.uuid5(NAMESPACE, f"audit-resource:{display_name}"))
    changes = []
    if template.changes:
        name, old, new = rng.choice(template.changes)
        changes = [{"displayName": name, "oldValue": old, "newValue": new}]
    # Spread evenly over the last AUDIT_DAYS, at working hours more often than not.
    span = timedelta(days=AUDIT_DAYS)
    when = now - span + span * (index + rng.random()) / max(count, 1)
    when = when.replace(hour=rng.choice([8, 9, 10, 11, 13, 14, 15, 16, 17, rng.randint(0, 23)]))
    when = min(max(when, now - span + timedelta(minutes=1)), now - timedelta(minutes=1))
    return AuditEvent(
        id=seeded_id("audit", index),
        display_name=template.activity,
        component_name=template.component,
        actor=_actor(rng, template),
        activity=template.activity,
        activity_date_time=when,
        activity_type=template.activity,
        activity_operation_type=template.operation,
        activity_result="Failure" if rng.random() < 0.04 else "Success",
        correlation_id=str(uuid.uuid5(NAMESPACE, f"audit-correlation:{index}")),
        category=template.category,
        resources=[
            {
                "displayName": display_name,
                "type": template.resource_type,
                "auditResourceType": template.resource_type,
                "resourceId": resource_id,
                "modifiedProperties": changes,
            }
        ],
    )


@dataclass(frozen=True)
class SeedCount:
    total: int
    created: int


@dataclass(frozen=True)
class SeedResult:
    exchange_connectors: SeedCount
    connector_groups: SeedCount
    app_proxy_connectors: SeedCount
    audit_events: SeedCount


def _create_missing(model: type[Model], objects: list[Any]) -> SeedCount:
    existing = set(model._default_manager.values_list("pk", flat=True))
    missing = [obj for obj in objects if obj.pk not in existing]
    model._default_manager.bulk_create(missing, batch_size=500)
    return SeedCount(total=model._default_manager.count(), created=len(missing))


def tenant_reset() -> None:
    """Delete every sandbox tenant's directory objects and logs (sign-in keys stay)."""
    with transaction.atomic():
        for model in (AppProxyConnector, ConnectorGroup, ExchangeConnector, AuditEvent):
            model.everywhere.all().delete()
        RequestLog.objects.all().delete()


@transaction.atomic
def tenant_seed(
    *,
    exchange: int = DEFAULT_EXCHANGE,
    app_proxy: int = DEFAULT_APP_PROXY,
    groups: int = DEFAULT_GROUPS,
    audit_events: int = DEFAULT_AUDIT_EVENTS,
    reset: bool = False,
) -> SeedResult:
    """Create whichever seeded entities are missing; existing rows are left as they are."""
    if reset:
        tenant_reset()
    now = timezone.now()
    exchange_rows = [_exchange_connector(index, now) for index in range(exchange)]
    exchange_count = _create_missing(ExchangeConnector, exchange_rows)

    group_rows = [_group(index, now) for index in range(groups)]
    # A default group that Graph writes created before the seed ran stays the only default.
    current_default = ConnectorGroup.objects.filter(is_default=True).first()
    if current_default is not None and group_rows and current_default.pk != group_rows[0].pk:
        group_rows[0] = current_default
    group_count = _create_missing(ConnectorGroup, group_rows)
    if not group_rows and app_proxy:
        group_rows = [current_default or _group(0, now)]
        _create_missing(ConnectorGroup, group_rows)
    app_proxy_rows = [
        _app_proxy_connector(
            index, group_rows[_group_index_for_connector(index, len(group_rows))], now
        )
        for index in range(app_proxy)
    ]
    app_proxy_count = _create_missing(AppProxyConnector, app_proxy_rows)

    audit_rows = [
        _audit_event(index, audit_events, now, exchange_rows) for index in range(audit_events)
    ]
    audit_count = _create_missing(AuditEvent, audit_rows)
    return SeedResult(
        exchange_connectors=exchange_count,
        connector_groups=group_count,
        app_proxy_connectors=app_proxy_count,
        audit_events=audit_count,
    )

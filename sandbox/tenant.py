"""Create the sandbox tenant's entities with realistic defaults (tests and `sandbox_seed`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from sandbox.directory import demo_user
from sandbox.models import (
    AppProxyConnector,
    AuditEvent,
    ConnectorGroup,
    ConnectorGroupType,
    ExchangeConnector,
)


def exchange_connector_create(
    *,
    server_name: str = "EXCH01.contoso.local",
    status: str = "connected",
    last_sync_date_time: datetime | None = None,
    sync_broken: bool = False,
    **fields: Any,
) -> ExchangeConnector:
    """One Exchange connector; any other model field may be passed by name."""
    defaults: dict[str, Any] = {
        "primary_smtp_address": "intune-connector@contoso.com",
        "connector_server_name": server_name.split(".")[0].replace("EXCH", "ICS"),
        "exchange_connector_type": "onPremises",
        "version": "16.0.1234.5",
        "exchange_alias": "IntuneConnector",
        "exchange_organization": "Contoso",
    }
    return ExchangeConnector.objects.create(
        server_name=server_name,
        status=status,
        last_sync_date_time=last_sync_date_time if last_sync_date_time else timezone.now(),
        sync_broken=sync_broken,
        **{**defaults, **fields},
    )


def connector_group_create(
    *,
    name: str = "Default",
    region: str = "",
    is_default: bool = False,
    connector_group_type: str = ConnectorGroupType.APPLICATION_PROXY,
    application_count: int = 0,
) -> ConnectorGroup:
    return ConnectorGroup.objects.create(
        name=name,
        region=region,
        is_default=is_default,
        connector_group_type=connector_group_type,
        application_count=application_count,
    )


def default_connector_group() -> ConnectorGroup:
    """The tenant's default group (created on first use), where new connectors land."""
    group = ConnectorGroup.objects.filter(is_default=True).first()
    return group or connector_group_create(name="Default", is_default=True)


def app_proxy_connector_create(
    *,
    machine_name: str = "APPPROXY01.contoso.local",
    group: ConnectorGroup | None = None,
    external_ip: str = "203.0.113.10",
    status: str = "active",
    version: str = "1.5.3437.0",
) -> AppProxyConnector:
    return AppProxyConnector.objects.create(
        machine_name=machine_name,
        group=group or default_connector_group(),
        external_ip=external_ip,
        status=status,
        version=version,
    )


def demo_actor(upn: str = "admin@sandbox.example") -> dict[str, Any]:
    """An Intune audit actor for one of the sandbox's demo users (an IT pro in the portal)."""
    user = demo_user(upn)
    return {
        "type": "ItPro",
        "auditActorType": "ItPro",
        "userPermissions": ["*"],
        "applicationId": "0000000a-0000-0000-c000-000000000000",
        "applicationDisplayName": "Microsoft Intune",
        "userPrincipalName": upn,
        "servicePrincipalName": None,
        "ipAddress": "198.51.100.23",
        "userId": user.oid if user else None,
        "userRoleScopeTags": [{"displayName": "Default", "roleScopeTagId": "0"}],
        "remoteTenantId": None,
        "remoteUserId": None,
    }


def audit_event_create(
    *,
    activity: str = "Patch DeviceManagementExchangeConnector",
    activity_type: str = "Patch DeviceManagementExchangeConnector",
    activity_operation_type: str = "Patch",
    category: str = "Enrollment",
    component_name: str = "Enrollment",
    activity_date_time: datetime | None = None,
    actor: dict[str, Any] | None = None,
    resources: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> AuditEvent:
    return AuditEvent.objects.create(
        display_name=activity,
        activity=activity,
        activity_type=activity_type,
        activity_operation_type=activity_operation_type,
        category=category,
        component_name=component_name,
        activity_date_time=activity_date_time or timezone.now(),
        actor=actor if actor is not None else demo_actor(),
        resources=resources or [],
        **fields,
    )

"""Intune-style audit events for the sandbox's successful writes (who, what, old and new values)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from sandbox.graph.context import GraphRequest
from sandbox.graph.entities import EntityType, format_datetime
from sandbox.models import AuditEvent

EXCHANGE_CATEGORY = "Other"
EXCHANGE_COMPONENT = "Other"
APP_PROXY_CATEGORY = "Other"
APP_PROXY_COMPONENT = "ApplicationProxy"


@dataclass(frozen=True)
class Change:
    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Resource:
    type: str
    id: str
    display_name: str
    changes: list[Change] = field(default_factory=list)


def _text(value: Any) -> str | None:
    """Intune records modified values as strings."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def correlation_id(req: GraphRequest) -> str:
    """The caller's client-request-id when it is a GUID (Intune stores GUIDs), else a fresh one."""
    try:
        return str(uuid.UUID(req.client_request_id))
    except ValueError:
        return str(uuid.uuid4())


def actor(req: GraphRequest) -> dict[str, Any]:
    claims = req.claims
    return {
        "type": "ItPro",
        "auditActorType": "ItPro",
        "userPermissions": ["*"],
        "applicationId": claims.get("appid"),
        "applicationDisplayName": None,
        "userPrincipalName": claims.get("upn"),
        "servicePrincipalName": None,
        "ipAddress": req.remote_addr or None,
        "userId": claims.get("oid"),
        "userRoleScopeTags": [{"displayName": "Default", "roleScopeTagId": "0"}],
        "remoteTenantId": None,
        "remoteUserId": None,
    }


def diff(entity_type: EntityType, before: dict[str, Any], changes: dict[str, Any]) -> list[Change]:
    """The changed properties (Graph names) between model values before and after a write."""
    by_field = {prop.field: prop.name for prop in entity_type.properties}
    return [
        Change(by_field[name], before.get(name), value)
        for name, value in changes.items()
        if before.get(name) != value
    ]


def record(
    req: GraphRequest,
    *,
    operation: str,
    resource: Resource,
    category: str,
    component: str,
    verb: str | None = None,
) -> AuditEvent:
    """Append the audit event for one successful write. `operation`: Create/Patch/Delete/Action."""
    activity = f"{verb or operation} {resource.type}"
    return AuditEvent.objects.create(
        display_name=activity,
        component_name=component,
        actor=actor(req),
        activity=activity,
        activity_date_time=timezone.now(),
        activity_type=activity,
        activity_operation_type=operation,
        activity_result="Success",
        correlation_id=correlation_id(req),
        category=category,
        resources=[
            {
                "displayName": resource.display_name,
                "type": resource.type,
                "auditResourceType": resource.type,
                "resourceId": resource.id,
                "modifiedProperties": [
                    {"displayName": c.name, "oldValue": _text(c.old), "newValue": _text(c.new)}
                    for c in resource.changes
                ],
            }
        ],
    )

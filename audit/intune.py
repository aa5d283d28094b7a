"""Intune's own audit events (`/deviceManagement/auditEvents`) as typed records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graph.datetimes import parse_graph_datetime

AUDIT_EVENTS = "deviceManagement/auditEvents"
AUDIT_CATEGORIES = f"{AUDIT_EVENTS}/getAuditCategories()"
# The delegated permission Graph wants for these reads (GRAPH.md §3: the Apps scope).
AUDIT_PERMISSION = "DeviceManagementApps.Read.All"


def odata_string(value: str) -> str:
    """An OData string literal: quoted, with quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def activity_types_path(category: str) -> str:
    return f"{AUDIT_EVENTS}/getAuditActivityTypes(category={odata_string(category)})"


def _text(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class ModifiedProperty:
    display_name: str
    old_value: str
    new_value: str


@dataclass(frozen=True)
class AuditResource:
    display_name: str
    type: str
    resource_id: str
    modified_properties: tuple[ModifiedProperty, ...]

    @classmethod
    def from_graph(cls, item: dict[str, Any]) -> AuditResource:
        properties = item.get("modifiedProperties") or []
        return cls(
            display_name=_text(item, "displayName"),
            type=_text(item, "auditResourceType") or _text(item, "type"),
            resource_id=_text(item, "resourceId"),
            modified_properties=tuple(
                ModifiedProperty(
                    display_name=_text(prop, "displayName"),
                    old_value=_text(prop, "oldValue"),
                    new_value=_text(prop, "newValue"),
                )
                for prop in properties
                if isinstance(prop, dict)
            ),
        )


@dataclass(frozen=True)
class AuditActor:
    user_principal_name: str
    application_display_name: str
    ip_address: str
    actor_type: str
    user_permissions: tuple[str, ...]

    @classmethod
    def from_graph(cls, item: Any) -> AuditActor:
        item = item if isinstance(item, dict) else {}
        permissions = item.get("userPermissions") or []
        return cls(
            user_principal_name=_text(item, "userPrincipalName"),
            application_display_name=_text(item, "applicationDisplayName"),
            ip_address=_text(item, "ipAddress"),
            actor_type=_text(item, "auditActorType") or _text(item, "type"),
            user_permissions=tuple(p for p in permissions if isinstance(p, str)),
        )

    @property
    def display(self) -> str:
        return self.user_principal_name or self.application_display_name or "—"


@dataclass(frozen=True)
class IntuneAuditEvent:
    """One `auditEvent`; unknown or missing values become blanks rather than errors."""

    id: str
    display_name: str
    activity: str
    activity_type: str
    activity_operation_type: str
    activity_result: str
    activity_date_time: datetime | None
    category: str
    component_name: str
    correlation_id: str
    actor: AuditActor
    resources: tuple[AuditResource, ...]

    @classmethod
    def from_graph(cls, item: dict[str, Any]) -> IntuneAuditEvent:
        resources = item.get("resources") or []
        return cls(
            id=_text(item, "id"),
            display_name=_text(item, "displayName"),
            activity=_text(item, "activity"),
            activity_type=_text(item, "activityType"),
            activity_operation_type=_text(item, "activityOperationType"),
            activity_result=_text(item, "activityResult"),
            activity_date_time=parse_graph_datetime(item.get("activityDateTime")),
            category=_text(item, "category"),
            component_name=_text(item, "componentName"),
            correlation_id=_text(item, "correlationId"),
            actor=AuditActor.from_graph(item.get("actor")),
            resources=tuple(
                AuditResource.from_graph(resource)
                for resource in resources
                if isinstance(resource, dict)
            ),
        )

    @property
    def title(self) -> str:
        return self.display_name or self.activity or self.activity_type or self.id

    @property
    def succeeded(self) -> bool:
        return self.activity_result.lower() == "success"

    @property
    def correlation_uuid(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(self.correlation_id)
        except ValueError:
            return None

"""Intune audit events: `/deviceManagement/auditEvents` and its two catalogue functions."""

from __future__ import annotations

from django.http import HttpResponse

from sandbox.graph import odata
from sandbox.graph.context import GraphRequest
from sandbox.graph.entities import AUDIT_EVENT, to_graph
from sandbox.graph.responses import GraphError, json_response
from sandbox.models import AuditEvent

CONTEXT = "deviceManagement/auditEvents"
# Intune's categories; the tenant's own events may add more.
KNOWN_CATEGORIES = (
    "Application",
    "Compliance",
    "Device",
    "DeviceConfiguration",
    "DeviceIntent",
    "Enrollment",
    "Other",
    "Role",
    "SoftwareUpdates",
)
# What the sandbox itself writes, so the activity-type list is useful before any write.
KNOWN_ACTIVITY_TYPES: dict[str, tuple[str, ...]] = {
    "Other": (
        "Create DeviceManagementExchangeConnector",
        "Patch DeviceManagementExchangeConnector",
        "Delete DeviceManagementExchangeConnector",
        "Sync DeviceManagementExchangeConnector",
        "Patch Connector",
        "Move Connector",
        "Create ConnectorGroup",
        "Patch ConnectorGroup",
        "Delete ConnectorGroup",
    ),
}


def list_events(req: GraphRequest) -> HttpResponse:
    items = [to_graph(AUDIT_EVENT, event) for event in AuditEvent.objects.all()]
    return odata.collection_response(req, AUDIT_EVENT, items, CONTEXT)


def count_events(req: GraphRequest) -> HttpResponse:
    items = [to_graph(AUDIT_EVENT, event) for event in AuditEvent.objects.all()]
    return odata.count_response(req, AUDIT_EVENT, items)


def get_event(req: GraphRequest, event_id: str) -> HttpResponse:
    event = AuditEvent.objects.filter(pk=event_id).first()
    if event is None:
        raise GraphError(
            404, "ResourceNotFound", f"No auditEvent with id '{event_id}' exists in this tenant."
        )
    return odata.entity_response(req, AUDIT_EVENT, to_graph(AUDIT_EVENT, event), CONTEXT)


def _strings(req: GraphRequest, values: set[str]) -> HttpResponse:
    return json_response(
        {
            "@odata.context": odata.metadata_url(req, "Collection(Edm.String)"),
            "value": sorted(value for value in values if value),
        }
    )


def audit_categories(req: GraphRequest) -> HttpResponse:
    stored = AuditEvent.objects.values_list("category", flat=True).distinct()
    return _strings(req, {*KNOWN_CATEGORIES, *stored})


def audit_activity_types(req: GraphRequest, category: str) -> HttpResponse:
    # OData string literals double their quotes.
    category = category.replace("''", "'")
    stored = (
        AuditEvent.objects.filter(category=category)
        .values_list("activity_type", flat=True)
        .distinct()
    )
    return _strings(req, {*KNOWN_ACTIVITY_TYPES.get(category, ()), *stored})

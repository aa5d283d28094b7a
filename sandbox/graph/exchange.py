"""Intune Exchange connectors: `/deviceManagement/exchangeConnectors` and their sync action."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.forms.models import model_to_dict
from django.http import HttpResponse
from django.utils import timezone

from sandbox.graph import activity, odata
from sandbox.graph.context import GraphRequest
from sandbox.graph.entities import EXCHANGE_CONNECTOR, EXCHANGE_SYNC_TYPES, to_graph
from sandbox.graph.responses import GraphError, bad_request, no_content
from sandbox.graph.validation import entity_changes, json_object
from sandbox.models import ExchangeConnector

CONTEXT = "deviceManagement/exchangeConnectors"
AUDIT_TYPE = "DeviceManagementExchangeConnector"


def sync_delay() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "SANDBOX_SYNC_DELAY_SECONDS", 5)))


def land_due_syncs() -> None:
    """Complete the syncs whose time has come; done lazily on read, so no worker is needed."""
    due = ExchangeConnector.objects.filter(sync_due_at__lte=timezone.now())
    cleared: dict[str, Any] = {"sync_requested_at": None, "sync_due_at": None, "sync_type": ""}
    due.filter(sync_broken=False).update(
        last_sync_date_time=F("sync_due_at"), status="connected", **cleared
    )
    # A broken connector took the request but never reports back.
    due.filter(sync_broken=True).update(status="disconnected", **cleared)


def _not_found(connector_id: str) -> GraphError:
    return GraphError(
        404,
        "ResourceNotFound",
        f"No deviceManagementExchangeConnector with id '{connector_id}' exists in this tenant.",
    )


def _get(connector_id: str) -> ExchangeConnector:
    connector = ExchangeConnector.objects.filter(pk=connector_id).first()
    if connector is None:
        raise _not_found(connector_id)
    return connector


def _resource(connector: ExchangeConnector, changes: list[activity.Change]) -> activity.Resource:
    return activity.Resource(AUDIT_TYPE, connector.id, connector.server_name, changes)


def _audit(req: GraphRequest, operation: str, resource: activity.Resource, **kw: Any) -> None:
    activity.record(
        req,
        operation=operation,
        resource=resource,
        category=activity.EXCHANGE_CATEGORY,
        component=activity.EXCHANGE_COMPONENT,
        **kw,
    )


def list_connectors(req: GraphRequest) -> HttpResponse:
    land_due_syncs()
    items = [to_graph(EXCHANGE_CONNECTOR, c) for c in ExchangeConnector.objects.all()]
    return odata.collection_response(req, EXCHANGE_CONNECTOR, items, CONTEXT)


def count_connectors(req: GraphRequest) -> HttpResponse:
    land_due_syncs()
    items = [to_graph(EXCHANGE_CONNECTOR, c) for c in ExchangeConnector.objects.all()]
    return odata.count_response(req, EXCHANGE_CONNECTOR, items)


def get_connector(req: GraphRequest, connector_id: str) -> HttpResponse:
    land_due_syncs()
    item = to_graph(EXCHANGE_CONNECTOR, _get(connector_id))
    return odata.entity_response(req, EXCHANGE_CONNECTOR, item, CONTEXT)


def create_connector(req: GraphRequest) -> HttpResponse:
    changes = entity_changes(req.body, EXCHANGE_CONNECTOR, creating=True)
    changes.setdefault("status", "connectionPending")
    connector = ExchangeConnector.objects.create(**changes)
    created = activity.diff(EXCHANGE_CONNECTOR, {}, changes)
    _audit(req, "Create", _resource(connector, created))
    item = to_graph(EXCHANGE_CONNECTOR, connector)
    response = odata.entity_response(req, EXCHANGE_CONNECTOR, item, CONTEXT, status=201)
    response["Location"] = req.url(f"{CONTEXT}/{connector.id}")
    return response


def update_connector(req: GraphRequest, connector_id: str) -> HttpResponse:
    connector = _get(connector_id)
    changes = entity_changes(req.body, EXCHANGE_CONNECTOR, creating=False, own_id=connector.id)
    before = model_to_dict(connector, fields=list(changes))
    for field, value in changes.items():
        setattr(connector, field, value)
    connector.save(update_fields=list(changes) or None)
    _audit(req, "Patch", _resource(connector, activity.diff(EXCHANGE_CONNECTOR, before, changes)))
    item = to_graph(EXCHANGE_CONNECTOR, connector)
    return odata.entity_response(req, EXCHANGE_CONNECTOR, item, CONTEXT)


def delete_connector(req: GraphRequest, connector_id: str) -> HttpResponse:
    connector = _get(connector_id)
    resource = _resource(connector, [])
    connector.delete()
    _audit(req, "Delete", resource)
    return no_content()


def _sync_type(body: bytes) -> str:
    payload = json_object(body)
    unknown = sorted(set(payload) - {"syncType"})
    if unknown:
        raise bad_request(
            f"The parameter '{unknown[0]}' is not a parameter of action 'sync'.",
            target=unknown[0],
        )
    sync_type = payload.get("syncType")
    if sync_type is None:
        raise bad_request("The parameter 'syncType' is required.", target="syncType")
    if sync_type not in EXCHANGE_SYNC_TYPES:
        raise bad_request(
            f"The value {sync_type!r} is not valid for parameter 'syncType'. "
            f"Valid values: {', '.join(EXCHANGE_SYNC_TYPES)}.",
            target="syncType",
        )
    return sync_type


def sync_connector(req: GraphRequest, connector_id: str) -> HttpResponse:
    """Accept the sync at once (204); it lands `SANDBOX_SYNC_DELAY_SECONDS` later."""
    connector = _get(connector_id)
    sync_type = _sync_type(req.body)
    now = timezone.now()
    connector.sync_requested_at = now
    connector.sync_due_at = now + sync_delay()
    connector.sync_type = sync_type
    connector.save(update_fields=["sync_requested_at", "sync_due_at", "sync_type"])
    changes = [activity.Change("syncType", None, sync_type)]
    _audit(req, "Action", _resource(connector, changes), verb="Sync")
    return no_content()

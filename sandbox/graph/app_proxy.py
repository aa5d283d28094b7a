"""Entra Application Proxy: connectors, connector groups, and moving connectors between groups."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

from django.db.models import Count
from django.forms.models import model_to_dict
from django.http import HttpResponse

from sandbox.graph import activity, odata
from sandbox.graph.context import GraphRequest
from sandbox.graph.entities import APP_PROXY_CONNECTOR, APPLICATION, CONNECTOR_GROUP, to_graph
from sandbox.graph.responses import GraphError, bad_request, no_content
from sandbox.graph.validation import entity_changes, json_object, non_empty
from sandbox.models import AppProxyConnector, ConnectorGroup, ConnectorGroupType

BASE = "onPremisesPublishingProfiles/applicationProxy"
PROFILE_CONTEXT = "onPremisesPublishingProfiles('applicationProxy')"
CONNECTORS_CONTEXT = f"{PROFILE_CONTEXT}/connectors"
GROUPS_CONTEXT = f"{PROFILE_CONTEXT}/connectorGroups"
# The directory's error codes differ from Intune's.
BAD_REQUEST = "Request_BadRequest"
NOT_FOUND = "Request_ResourceNotFound"


def _not_found(object_id: str) -> GraphError:
    return GraphError(
        404,
        NOT_FOUND,
        f"Resource '{object_id}' does not exist or one of its queried reference-property "
        "objects are not present.",
    )


def _connector(connector_id: str) -> AppProxyConnector:
    connector = AppProxyConnector.objects.select_related("group").filter(pk=connector_id).first()
    if connector is None:
        raise _not_found(connector_id)
    return connector


def _group(group_id: str) -> ConnectorGroup:
    group = ConnectorGroup.objects.filter(pk=group_id).first()
    if group is None:
        raise _not_found(group_id)
    return group


def _audit(req: GraphRequest, operation: str, resource: activity.Resource, **kw: Any) -> None:
    activity.record(
        req,
        operation=operation,
        resource=resource,
        category=activity.APP_PROXY_CATEGORY,
        component=activity.APP_PROXY_COMPONENT,
        **kw,
    )


def _connector_items(connectors: Any) -> list[dict[str, Any]]:
    return [to_graph(APP_PROXY_CONNECTOR, connector) for connector in connectors]


def _group_items(groups: Any) -> list[dict[str, Any]]:
    return [to_graph(CONNECTOR_GROUP, group) for group in groups]


# --- Connectors ------------------------------------------------------------------------------


def list_connectors(req: GraphRequest) -> HttpResponse:
    items = _connector_items(AppProxyConnector.objects.all())
    return odata.collection_response(req, APP_PROXY_CONNECTOR, items, CONNECTORS_CONTEXT)


def count_connectors(req: GraphRequest) -> HttpResponse:
    items = _connector_items(AppProxyConnector.objects.all())
    return odata.count_response(req, APP_PROXY_CONNECTOR, items)


def get_connector(req: GraphRequest, connector_id: str) -> HttpResponse:
    item = to_graph(APP_PROXY_CONNECTOR, _connector(connector_id))
    return odata.entity_response(req, APP_PROXY_CONNECTOR, item, CONNECTORS_CONTEXT)


def _check_external_ip(changes: dict[str, Any]) -> None:
    value = changes.get("external_ip")
    if value is None:
        return
    try:
        ipaddress.ip_address(value)
    except ValueError as exc:
        raise bad_request(
            f"The value '{value}' of property 'externalIp' is not an IP address.",
            target="externalIp",
            code=BAD_REQUEST,
        ) from exc


def update_connector(req: GraphRequest, connector_id: str) -> HttpResponse:
    connector = _connector(connector_id)
    changes = entity_changes(
        req.body, APP_PROXY_CONNECTOR, creating=False, code=BAD_REQUEST, own_id=connector.id
    )
    non_empty(changes, "machine_name", "machineName", code=BAD_REQUEST)
    _check_external_ip(changes)
    before = model_to_dict(connector, fields=list(changes))
    for field, value in changes.items():
        setattr(connector, field, value)
    connector.save(update_fields=list(changes) or None)
    changed = activity.diff(APP_PROXY_CONNECTOR, before, changes)
    _audit(
        req, "Patch", activity.Resource("Connector", connector.id, connector.machine_name, changed)
    )
    item = to_graph(APP_PROXY_CONNECTOR, connector)
    return odata.entity_response(req, APP_PROXY_CONNECTOR, item, CONNECTORS_CONTEXT)


def connector_member_of(req: GraphRequest, connector_id: str) -> HttpResponse:
    connector = _connector(connector_id)
    items = _group_items([connector.group])
    context = f"{CONNECTORS_CONTEXT}('{connector.id}')/memberOf"
    return odata.collection_response(req, CONNECTOR_GROUP, items, context)


def _referenced_id(req: GraphRequest, collection: str) -> str:
    """The id at the end of the body's `@odata.id`, which must point into `collection`."""
    payload = json_object(req.body, code=BAD_REQUEST)
    reference = payload.get("@odata.id")
    if not isinstance(reference, str) or not reference:
        raise bad_request(
            "The request body must carry '@odata.id' with the URL of the object to add.",
            target="@odata.id",
            code=BAD_REQUEST,
        )
    path = unquote(urlsplit(reference).path).rstrip("/")
    parent, _, object_id = path.rpartition("/")
    # Any host: Graph's own URL (as the docs show) and this sandbox's URL both name the object.
    if not parent.endswith(f"/{BASE}/{collection}") or not object_id:
        raise bad_request(
            f"The '@odata.id' '{reference}' does not reference an object in {BASE}/{collection}.",
            target="@odata.id",
            code=BAD_REQUEST,
        )
    return object_id


def _move(req: GraphRequest, connector: AppProxyConnector, group: ConnectorGroup) -> None:
    # Unreachable through Graph today (one documented type), but a group written straight into
    # the tables with a type Graph may add later is refused as Graph would.
    if group.connector_group_type != ConnectorGroupType.APPLICATION_PROXY:
        raise bad_request(
            f"The connector group '{group.name}' is of type '{group.connector_group_type}': "
            "connectors can only be moved to applicationProxy groups.",
            target="@odata.id",
            code=BAD_REQUEST,
        )
    old_group = connector.group
    if old_group.pk == group.pk:
        return
    connector.group = group
    connector.save(update_fields=["group"])
    change = activity.Change("memberOf", old_group.id, group.id)
    resource = activity.Resource("Connector", connector.id, connector.machine_name, [change])
    _audit(req, "Action", resource, verb="Move")


def connector_add_member_of(req: GraphRequest, connector_id: str) -> HttpResponse:
    connector = _connector(connector_id)
    group = _group(_referenced_id(req, "connectorGroups"))
    _move(req, connector, group)
    return no_content()


# --- Connector groups ------------------------------------------------------------------------


def list_groups(req: GraphRequest) -> HttpResponse:
    items = _group_items(ConnectorGroup.objects.all())
    return odata.collection_response(req, CONNECTOR_GROUP, items, GROUPS_CONTEXT)


def count_groups(req: GraphRequest) -> HttpResponse:
    items = _group_items(ConnectorGroup.objects.all())
    return odata.count_response(req, CONNECTOR_GROUP, items)


def get_group(req: GraphRequest, group_id: str) -> HttpResponse:
    item = to_graph(CONNECTOR_GROUP, _group(group_id))
    return odata.entity_response(req, CONNECTOR_GROUP, item, GROUPS_CONTEXT)


def group_members(req: GraphRequest, group_id: str) -> HttpResponse:
    group = _group(group_id)
    items = _connector_items(group.members.all())
    context = f"{GROUPS_CONTEXT}('{group.id}')/members"
    return odata.collection_response(req, APP_PROXY_CONNECTOR, items, context)


def group_applications(req: GraphRequest, group_id: str) -> HttpResponse:
    """The group's published applications: stand-ins, as many as its `application_count`."""
    group = _group(group_id)
    items = [
        {
            "@odata.type": APPLICATION.odata_type,
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{group.id}/applications/{number}")),
            "displayName": f"{group.name} app {number}",
        }
        for number in range(1, group.application_count + 1)
    ]
    context = f"{GROUPS_CONTEXT}('{group.id}')/applications"
    return odata.collection_response(req, APPLICATION, items, context)


def group_add_member(req: GraphRequest, group_id: str) -> HttpResponse:
    group = _group(group_id)
    connector = _connector(_referenced_id(req, "connectors"))
    _move(req, connector, group)
    return no_content()


def create_group(req: GraphRequest) -> HttpResponse:
    changes = entity_changes(req.body, CONNECTOR_GROUP, creating=True, code=BAD_REQUEST)
    non_empty(changes, "name", "name", code=BAD_REQUEST)
    group = ConnectorGroup.objects.create(**changes)
    created = activity.diff(CONNECTOR_GROUP, {}, changes)
    _audit(req, "Create", activity.Resource("ConnectorGroup", group.id, group.name, created))
    item = to_graph(CONNECTOR_GROUP, group)
    response = odata.entity_response(req, CONNECTOR_GROUP, item, GROUPS_CONTEXT, status=201)
    response["Location"] = req.url(f"{BASE}/connectorGroups/{group.id}")
    return response


def _usage(group: ConnectorGroup) -> tuple[int, int]:
    """(connectors, applications) in the group."""
    connectors = ConnectorGroup.objects.filter(pk=group.pk).aggregate(n=Count("members"))["n"]
    return connectors, group.application_count


def _usage_text(connectors: int, applications: int) -> str:
    return f"{connectors} connector(s) and {applications} application(s)"


def update_group(req: GraphRequest, group_id: str) -> HttpResponse:
    group = _group(group_id)
    changes = entity_changes(
        req.body, CONNECTOR_GROUP, creating=False, code=BAD_REQUEST, own_id=group.id
    )
    non_empty(changes, "name", "name", code=BAD_REQUEST)
    if "region" in changes and changes["region"] != group.region:
        connectors, applications = _usage(group)
        if connectors or applications:
            raise bad_request(
                f"The region of connector group '{group.name}' can only be changed while it has "
                "no connectors and no applications; "
                f"it has {_usage_text(connectors, applications)}.",
                target="region",
                code=BAD_REQUEST,
            )
    before = model_to_dict(group, fields=list(changes))
    for field, value in changes.items():
        setattr(group, field, value)
    group.save(update_fields=list(changes) or None)
    changed = activity.diff(CONNECTOR_GROUP, before, changes)
    _audit(req, "Patch", activity.Resource("ConnectorGroup", group.id, group.name, changed))
    item = to_graph(CONNECTOR_GROUP, group)
    return odata.entity_response(req, CONNECTOR_GROUP, item, GROUPS_CONTEXT)


def delete_group(req: GraphRequest, group_id: str) -> HttpResponse:
    group = _group(group_id)
    if group.is_default:
        raise bad_request(
            f"The connector group '{group.name}' is the default group and cannot be deleted.",
            code=BAD_REQUEST,
        )
    connectors, applications = _usage(group)
    if connectors or applications:
        raise bad_request(
            f"The connector group '{group.name}' cannot be deleted while it has "
            f"{_usage_text(connectors, applications)}: move them to another group first.",
            code=BAD_REQUEST,
        )
    resource = activity.Resource("ConnectorGroup", group.id, group.name, [])
    group.delete()
    _audit(req, "Delete", resource)
    return no_content()

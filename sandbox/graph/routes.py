"""The Graph paths the sandbox serves: each method's handler and the permissions it needs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpResponse

from sandbox.graph import app_proxy, audit_events, exchange, relationships

Handler = Callable[..., HttpResponse]

SERVICE_CONFIG_READ = "DeviceManagementServiceConfig.Read.All"
SERVICE_CONFIG_WRITE = "DeviceManagementServiceConfig.ReadWrite.All"
CONFIGURATION_WRITE = "DeviceManagementConfiguration.ReadWrite.All"
DIRECTORY_WRITE = "Directory.ReadWrite.All"
APPS_READ = "DeviceManagementApps.Read.All"
APPS_WRITE = "DeviceManagementApps.ReadWrite.All"

# The permission named first is the one a 403 tells the caller to ask for.
EXCHANGE_READ = (SERVICE_CONFIG_READ, SERVICE_CONFIG_WRITE)
EXCHANGE_WRITE = (SERVICE_CONFIG_WRITE,)
EXCHANGE_CREATE = (SERVICE_CONFIG_WRITE, CONFIGURATION_WRITE)
APP_PROXY = (DIRECTORY_WRITE,)
AUDIT_READ = (APPS_READ, APPS_WRITE)
CROSS_TENANT_READ = ("CrossTenantInformation.ReadBasic.All",)
GDAP_READ = ("DelegatedAdminRelationship.Read.All", "DelegatedAdminRelationship.ReadWrite.All")


@dataclass(frozen=True)
class Endpoint:
    handler: Handler
    permissions: tuple[str, ...]
    # One transaction per handler, so a change and its audit event commit together.
    atomic: bool = True


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    methods: dict[str, Endpoint]


def route(pattern: str, **methods: Endpoint) -> Route:
    # Graph matches segment names case-insensitively.
    return Route(re.compile(f"{pattern}/?", re.IGNORECASE), methods)


# An id is any segment that is not an OData keyword ($count, $ref…).
ID = r"[^/$][^/]*"
EXCHANGE = "deviceManagement/exchangeConnectors"
AUDIT = "deviceManagement/auditEvents"
APP_PROXY_CONNECTORS = f"{app_proxy.BASE}/connectors"
APP_PROXY_GROUPS = f"{app_proxy.BASE}/connectorGroups"

ROUTES: tuple[Route, ...] = (
    route(
        EXCHANGE,
        GET=Endpoint(exchange.list_connectors, EXCHANGE_READ),
        POST=Endpoint(exchange.create_connector, EXCHANGE_CREATE),
    ),
    route(rf"{EXCHANGE}/\$count", GET=Endpoint(exchange.count_connectors, EXCHANGE_READ)),
    route(
        rf"{EXCHANGE}/(?P<connector_id>{ID})",
        GET=Endpoint(exchange.get_connector, EXCHANGE_READ),
        PATCH=Endpoint(exchange.update_connector, EXCHANGE_WRITE),
        DELETE=Endpoint(exchange.delete_connector, EXCHANGE_WRITE),
    ),
    route(
        rf"{EXCHANGE}/(?P<connector_id>{ID})/sync",
        POST=Endpoint(exchange.sync_connector, EXCHANGE_WRITE),
    ),
    route(APP_PROXY_CONNECTORS, GET=Endpoint(app_proxy.list_connectors, APP_PROXY)),
    route(rf"{APP_PROXY_CONNECTORS}/\$count", GET=Endpoint(app_proxy.count_connectors, APP_PROXY)),
    route(
        rf"{APP_PROXY_CONNECTORS}/(?P<connector_id>{ID})",
        GET=Endpoint(app_proxy.get_connector, APP_PROXY),
        PATCH=Endpoint(app_proxy.update_connector, APP_PROXY),
    ),
    route(
        rf"{APP_PROXY_CONNECTORS}/(?P<connector_id>{ID})/memberOf",
        GET=Endpoint(app_proxy.connector_member_of, APP_PROXY),
    ),
    route(
        rf"{APP_PROXY_CONNECTORS}/(?P<connector_id>{ID})/memberOf/\$ref",
        POST=Endpoint(app_proxy.connector_add_member_of, APP_PROXY),
    ),
    route(
        APP_PROXY_GROUPS,
        GET=Endpoint(app_proxy.list_groups, APP_PROXY),
        POST=Endpoint(app_proxy.create_group, APP_PROXY),
    ),
    route(rf"{APP_PROXY_GROUPS}/\$count", GET=Endpoint(app_proxy.count_groups, APP_PROXY)),
    route(
        rf"{APP_PROXY_GROUPS}/(?P<group_id>{ID})",
        GET=Endpoint(app_proxy.get_group, APP_PROXY),
        PATCH=Endpoint(app_proxy.update_group, APP_PROXY),
        DELETE=Endpoint(app_proxy.delete_group, APP_PROXY),
    ),
    route(
        rf"{APP_PROXY_GROUPS}/(?P<group_id>{ID})/members",
        GET=Endpoint(app_proxy.group_members, APP_PROXY),
    ),
    route(
        rf"{APP_PROXY_GROUPS}/(?P<group_id>{ID})/applications",
        GET=Endpoint(app_proxy.group_applications, APP_PROXY),
    ),
    route(
        rf"{APP_PROXY_GROUPS}/(?P<group_id>{ID})/members/\$ref",
        POST=Endpoint(app_proxy.group_add_member, APP_PROXY),
    ),
    route(AUDIT, GET=Endpoint(audit_events.list_events, AUDIT_READ)),
    route(rf"{AUDIT}/\$count", GET=Endpoint(audit_events.count_events, AUDIT_READ)),
    route(
        rf"{AUDIT}/getAuditCategories(?:\(\))?",
        GET=Endpoint(audit_events.audit_categories, AUDIT_READ),
    ),
    route(
        rf"{AUDIT}/getAuditActivityTypes\(category='(?P<category>(?:[^']|'')*)'\)",
        GET=Endpoint(audit_events.audit_activity_types, AUDIT_READ),
    ),
    route(rf"{AUDIT}/(?P<event_id>{ID})", GET=Endpoint(audit_events.get_event, AUDIT_READ)),
    route(
        relationships.RELATIONSHIPS,
        GET=Endpoint(relationships.list_relationships, GDAP_READ, atomic=False),
    ),
    route(
        rf"{relationships.RELATIONSHIPS}/(?P<relationship_id>{ID})",
        GET=Endpoint(relationships.get_relationship, GDAP_READ, atomic=False),
    ),
    route(
        rf"{relationships.FIND_TENANT}\(tenantId='(?P<tenant_id>(?:[^']|'')*)'\)",
        GET=Endpoint(relationships.find_tenant_information, CROSS_TENANT_READ, atomic=False),
    ),
    route(
        relationships.CUSTOMERS,
        GET=Endpoint(relationships.list_customers, GDAP_READ, atomic=False),
    ),
)

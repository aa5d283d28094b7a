"""GDAP: `/tenantRelationships/delegatedAdminRelationships` and `/delegatedAdminCustomers`,
served from the partner tenant as Graph v1.0 shapes them (a customer tenant has none)."""

from __future__ import annotations

from django.http import HttpResponse

from sandbox import tenants
from sandbox.graph import odata
from sandbox.graph.context import GraphRequest
from sandbox.graph.entities import EntityType, Kind, Property, Writable, to_graph
from sandbox.graph.responses import GraphError, json_response
from sandbox.models import DelegatedAdminRelationship, RelationshipStatus, Tenant
from sandbox.scope import current_tenant, home_tenant_id

RELATIONSHIPS = "tenantRelationships/delegatedAdminRelationships"
FIND_TENANT = "tenantRelationships/findTenantInformationByTenantId"
CUSTOMERS = "tenantRelationships/delegatedAdminCustomers"

DELEGATED_ADMIN_RELATIONSHIP = EntityType(
    "delegatedAdminRelationship",
    tuple(
        Property(name, field, kind, enum, writable=Writable.NEVER)
        for name, field, kind, enum in (
            ("id", "id", Kind.STRING, ()),
            ("displayName", "display_name", Kind.STRING, ()),
            ("status", "status", Kind.ENUM, tuple(RelationshipStatus.values)),
            ("customer", "customer_json", Kind.JSON, ()),
            ("accessDetails", "access_details_json", Kind.JSON, ()),
            ("duration", "duration", Kind.STRING, ()),
            ("autoExtendDuration", "auto_extend_duration", Kind.STRING, ()),
            ("createdDateTime", "created_date_time", Kind.DATETIME, ()),
            ("activatedDateTime", "activated_date_time", Kind.DATETIME, ()),
            ("endDateTime", "end_date_time", Kind.DATETIME, ()),
            ("lastModifiedDateTime", "last_modified_date_time", Kind.DATETIME, ()),
        )
    ),
)

DELEGATED_ADMIN_CUSTOMER = EntityType(
    "delegatedAdminCustomer",
    (
        Property("id", "id", writable=Writable.NEVER),
        Property("tenantId", "id", writable=Writable.NEVER),
        Property("displayName", "display_name", writable=Writable.NEVER),
    ),
)


def _relationships() -> list[DelegatedAdminRelationship]:
    if current_tenant() != home_tenant_id():
        return []  # a customer tenant is no partner: it has no relationships of its own
    return list(DelegatedAdminRelationship.objects.select_related("customer"))


def list_relationships(req: GraphRequest) -> HttpResponse:
    items = [to_graph(DELEGATED_ADMIN_RELATIONSHIP, item) for item in _relationships()]
    return odata.collection_response(req, DELEGATED_ADMIN_RELATIONSHIP, items, RELATIONSHIPS)


def get_relationship(req: GraphRequest, relationship_id: str) -> HttpResponse:
    found = next((item for item in _relationships() if item.id == relationship_id), None)
    if found is None:
        raise GraphError(
            404,
            "NotFound",
            f"The delegated admin relationship with id '{relationship_id}' was not found.",
        )
    item = to_graph(DELEGATED_ADMIN_RELATIONSHIP, found)
    return odata.entity_response(req, DELEGATED_ADMIN_RELATIONSHIP, item, RELATIONSHIPS)


def list_customers(req: GraphRequest) -> HttpResponse:
    customer_ids = {item.customer_id for item in _relationships()}
    customers = Tenant.objects.filter(id__in=customer_ids)
    items = [to_graph(DELEGATED_ADMIN_CUSTOMER, item) for item in customers]
    return odata.collection_response(req, DELEGATED_ADMIN_CUSTOMER, items, CUSTOMERS)


def find_tenant_information(req: GraphRequest, tenant_id: str) -> HttpResponse:
    """`tenantInformation` of any tenant: its id, name and default domain (for a partner's
    switcher; any tenant's basic information is readable with CrossTenantInformation)."""
    found = tenants.lookup(tenant_id.replace("''", "'"))
    if found is None:
        raise GraphError(404, "Request_ResourceNotFound", f"Tenant '{tenant_id}' was not found.")
    return json_response(
        {
            "@odata.context": odata.metadata_url(req, "microsoft.graph.tenantInformation"),
            "tenantId": found.id,
            "federationBrandName": None,
            "displayName": found.display_name,
            "defaultDomainName": found.default_domain,
        }
    )

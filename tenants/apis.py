"""The tenants API: the managed tenants and their access state (`GET /api/v1/tenants/`)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kernel.api.permissions import IsReader
from tenants import selectors


class TenantOutputSerializer(serializers.Serializer):
    tenantId = serializers.CharField(source="tenant.tenant_id")  # noqa: N815
    displayName = serializers.CharField(source="tenant.display_name")  # noqa: N815
    defaultDomain = serializers.CharField(source="tenant.default_domain")  # noqa: N815
    source = serializers.CharField(source="tenant.source")
    access = serializers.CharField(source="state")
    relationshipStatus = serializers.CharField(source="tenant.relationship_status")  # noqa: N815
    relationshipEnd = serializers.DateTimeField(source="tenant.relationship_end")  # noqa: N815
    apiRoot = serializers.SerializerMethodField()  # noqa: N815

    def get_apiRoot(self, row: selectors.TenantRow) -> str:  # noqa: N802
        return f"/api/v1/tenants/{row.tenant.tenant_id}/"


class TenantListApi(APIView):
    permission_classes = [IsReader]

    @extend_schema(responses=TenantOutputSerializer(many=True), operation_id="tenants_list")
    def get(self, request: Request) -> Response:
        rows = selectors.tenant_rows(now=timezone.now(), query=request.query_params.get("q", ""))
        return Response(TenantOutputSerializer(rows, many=True).data)

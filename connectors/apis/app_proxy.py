"""App Proxy connectors and connector groups over the JSON API (the pages' services)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.reasons import ChangeReasonSerializer
from connectors import selectors, services
from connectors.apis.common import actor_for, update_input_serializer, validated_update
from connectors.forms import AppProxyConnectorFilterForm, AppProxyConnectorForm, ConnectorGroupForm
from graph.client import GraphClient
from kernel.api.forms import query_parameters, serializer_for_form, validated
from kernel.api.paging import PageQuerySerializer, page_serializer, paged
from kernel.api.permissions import IsAdmin, IsReader
from kernel.graph_clients import graph_for

CONNECTORS = ["App Proxy connectors"]
GROUPS = ["Connector groups"]


class GroupRefSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class AppProxyConnectorOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="connector.id")
    machineName = serializers.CharField(source="connector.machine_name")  # noqa: N815
    externalIp = serializers.CharField(source="connector.external_ip")  # noqa: N815
    status = serializers.CharField(source="connector.status")
    version = serializers.CharField(source="connector.version")
    group = GroupRefSerializer(allow_null=True)


class ConnectorGroupOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="group.id")
    name = serializers.CharField(source="group.name")
    connectorGroupType = serializers.CharField(source="group.connector_group_type")  # noqa: N815
    isDefault = serializers.BooleanField(source="group.is_default")  # noqa: N815
    region = serializers.CharField(source="group.region", allow_blank=True)
    connectors = serializers.SerializerMethodField()
    active = serializers.IntegerField()
    inactive = serializers.IntegerField()
    applications = serializers.IntegerField(allow_null=True)
    belowMinimum = serializers.BooleanField(  # noqa: N815
        source="below_minimum", help_text="Fewer than 2 active connectors."
    )

    def get_connectors(self, row: selectors.ConnectorGroupRow) -> int:
        return len(row.connectors)


class AppProxyConnectorListApi(APIView):
    permission_classes = [IsReader]
    OutputSerializer = page_serializer(AppProxyConnectorOutputSerializer, "AppProxyConnectorPage")

    @extend_schema(
        operation_id="app_proxy_connector_list",
        tags=CONNECTORS,
        parameters=[
            *[p for p in query_parameters(AppProxyConnectorFilterForm) if p.name != "view"],
            PageQuerySerializer,
        ],
        responses=OutputSerializer,
    )
    def get(self, request: Request) -> Response:
        filters = validated(
            AppProxyConnectorFilterForm,
            {k: v for k, v in request.query_params.items() if k not in {"page", "page_size"}},
        )
        query = PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        tenant = selectors.app_proxy_tenant_get(
            graph=graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES)
        )
        rows = selectors.app_proxy_connector_list(tenant=tenant, **filters.selector_arguments())
        items, facts = paged(rows, query.validated_data)
        return Response(
            {**facts, "results": AppProxyConnectorOutputSerializer(items, many=True).data}
        )


def _connector_row(graph: GraphClient, connector_id: str) -> selectors.AppProxyConnectorRow:
    connector = selectors.app_proxy_connector_get(graph=graph, connector_id=connector_id)
    group = selectors.app_proxy_connector_group_get(graph=graph, connector_id=connector_id)
    return selectors.AppProxyConnectorRow(connector, group)


class AppProxyConnectorGetApi(APIView):
    permission_classes = [IsReader]

    @extend_schema(
        operation_id="app_proxy_connector_get",
        tags=CONNECTORS,
        responses=AppProxyConnectorOutputSerializer,
    )
    def get(self, request: Request, connector_id: str) -> Response:
        row = _connector_row(
            graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES), connector_id
        )
        return Response(AppProxyConnectorOutputSerializer(row).data)


class AppProxyConnectorUpdateApi(APIView):
    permission_classes = [IsAdmin]
    InputSerializer = update_input_serializer(AppProxyConnectorForm, "AppProxyConnector")

    @extend_schema(
        operation_id="app_proxy_connector_update",
        tags=CONNECTORS,
        request=InputSerializer,
        responses=AppProxyConnectorOutputSerializer,
    )
    def patch(self, request: Request, connector_id: str) -> Response:
        changes, reason = validated_update(request, AppProxyConnectorForm, self.InputSerializer)
        graph = graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES)
        services.app_proxy_connector_update(
            graph=graph,
            actor=actor_for(request),
            connector_id=connector_id,
            changes=changes,
            reason=reason,
        )
        return Response(AppProxyConnectorOutputSerializer(_connector_row(graph, connector_id)).data)


class AppProxyConnectorMoveApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema_serializer(component_name="AppProxyConnectorMoveInput")
    class InputSerializer(ChangeReasonSerializer):
        groupId = serializers.CharField(max_length=64)  # noqa: N815

    @extend_schema(
        operation_id="app_proxy_connector_move",
        tags=CONNECTORS,
        request=InputSerializer,
        responses=AppProxyConnectorOutputSerializer,
    )
    def post(self, request: Request, connector_id: str) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        graph = graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES)
        row = _connector_row(graph, connector_id)
        to_group = selectors.connector_group_get(
            graph=graph, group_id=body.validated_data["groupId"]
        )
        services.app_proxy_connector_move(
            graph=graph,
            actor=actor_for(request),
            connector=row.connector,
            from_group=row.group,
            to_group=to_group,
            reason=body.validated_data["reason"],
        )
        return Response(
            AppProxyConnectorOutputSerializer(
                selectors.AppProxyConnectorRow(row.connector, to_group)
            ).data
        )


class ConnectorGroupListApi(APIView):
    permission_classes = [IsReader]

    @extend_schema_serializer(component_name="ConnectorGroupList")
    class OutputSerializer(serializers.Serializer):
        results = ConnectorGroupOutputSerializer(many=True)

    @extend_schema(operation_id="connector_group_list", tags=GROUPS, responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        tenant = selectors.app_proxy_tenant_get(
            graph=graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES), with_applications=True
        )
        return Response({"results": ConnectorGroupOutputSerializer(tenant.groups, many=True).data})


class ConnectorGroupGetApi(APIView):
    permission_classes = [IsReader]

    @extend_schema(
        operation_id="connector_group_get", tags=GROUPS, responses=ConnectorGroupOutputSerializer
    )
    def get(self, request: Request, group_id: str) -> Response:
        row = selectors.connector_group_row_get(
            graph=graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES), group_id=group_id
        )
        return Response(ConnectorGroupOutputSerializer(row).data)


def _group_row(graph: GraphClient, group_id: str) -> Any:
    return ConnectorGroupOutputSerializer(
        selectors.connector_group_row_get(graph=graph, group_id=group_id)
    ).data


class ConnectorGroupCreateApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema_serializer(component_name="ConnectorGroupCreateInput")
    class InputSerializer(
        serializer_for_form(ConnectorGroupForm, "ConnectorGroupFields"), ChangeReasonSerializer
    ):
        pass

    @extend_schema(
        operation_id="connector_group_create",
        tags=GROUPS,
        request=InputSerializer,
        responses={201: ConnectorGroupOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        form = validated(
            ConnectorGroupForm, {k: v for k, v in request.data.items() if k != "reason"}
        )
        graph = graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES)
        values = form.graph_values()
        created = services.connector_group_create(
            graph=graph,
            actor=actor_for(request),
            name=values["name"],
            region=values["region"] or "",
            reason=body.validated_data["reason"],
        )
        return Response(_group_row(graph, created.id), status=status.HTTP_201_CREATED)


class ConnectorGroupUpdateApi(APIView):
    permission_classes = [IsAdmin]
    InputSerializer = update_input_serializer(ConnectorGroupForm, "ConnectorGroup")

    @extend_schema(
        operation_id="connector_group_update",
        tags=GROUPS,
        request=InputSerializer,
        responses=ConnectorGroupOutputSerializer,
    )
    def patch(self, request: Request, group_id: str) -> Response:
        changes, reason = validated_update(request, ConnectorGroupForm, self.InputSerializer)
        graph = graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES)
        services.connector_group_update(
            graph=graph,
            actor=actor_for(request),
            group_id=group_id,
            changes=changes,
            reason=reason,
        )
        return Response(_group_row(graph, group_id))


class ConnectorGroupDeleteApi(APIView):
    permission_classes = [IsAdmin]

    InputSerializer = ChangeReasonSerializer

    @extend_schema(
        operation_id="connector_group_delete",
        tags=GROUPS,
        request=InputSerializer,
        responses={204: None},
    )
    def delete(self, request: Request, group_id: str) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.connector_group_delete(
            graph=graph_for(request, scopes=settings.APP_PROXY_GRAPH_SCOPES),
            actor=actor_for(request),
            group_id=group_id,
            reason=body.validated_data["reason"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

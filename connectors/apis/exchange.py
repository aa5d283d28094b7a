"""Exchange connectors over the JSON API: the page's operations, the page's services."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.reasons import ChangeReasonSerializer
from connectors import selectors, services
from connectors.apis.common import actor_for, update_input_serializer, validated_update
from connectors.enums import ExchangeSyncType
from connectors.forms import ExchangeConnectorFilterForm, ExchangeConnectorForm
from connectors.health import RULE
from kernel.api.forms import query_parameters, serializer_for_form, validated
from kernel.api.paging import PageQuerySerializer, page_serializer, paged
from kernel.api.permissions import IsAdmin, IsOperator, IsReader
from kernel.graph_clients import graph_for

TAG = ["Exchange connectors"]


class ExchangeConnectorOutputSerializer(serializers.Serializer):
    """A connector as Graph has it (enum values exactly as Graph sent them) and its health."""

    id = serializers.CharField(source="connector.id")
    serverName = serializers.CharField(source="connector.server_name")  # noqa: N815
    connectorServerName = serializers.CharField(source="connector.connector_server_name")  # noqa: N815
    status = serializers.CharField(source="connector.status")
    exchangeConnectorType = serializers.CharField(source="connector.exchange_connector_type")  # noqa: N815
    lastSyncDateTime = serializers.CharField(source="connector.last_sync_raw", allow_null=True)  # noqa: N815
    primarySmtpAddress = serializers.CharField(source="connector.primary_smtp_address")  # noqa: N815
    version = serializers.CharField(source="connector.version")
    exchangeAlias = serializers.CharField(source="connector.exchange_alias")  # noqa: N815
    exchangeOrganization = serializers.CharField(source="connector.exchange_organization")  # noqa: N815
    health = serializers.CharField(
        help_text=f"healthy, warning, unhealthy or never (synced). {RULE}"
    )


def _row(connector: Any) -> selectors.ExchangeConnectorRow:
    return selectors.ExchangeConnectorRow.of(connector, timezone.now())


class ExchangeConnectorListApi(APIView):
    permission_classes = [IsReader]
    OutputSerializer = page_serializer(ExchangeConnectorOutputSerializer, "ExchangeConnectorPage")

    @extend_schema(
        operation_id="exchange_connector_list",
        tags=TAG,
        parameters=[*query_parameters(ExchangeConnectorFilterForm), PageQuerySerializer],
        responses=OutputSerializer,
    )
    def get(self, request: Request) -> Response:
        filters = validated(
            ExchangeConnectorFilterForm,
            {k: v for k, v in request.query_params.items() if k not in {"page", "page_size"}},
        )
        query = PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.exchange_connector_list(
            graph=graph_for(request), now=timezone.now(), **filters.selector_arguments()
        )
        items, facts = paged(rows, query.validated_data)
        return Response(
            {**facts, "results": ExchangeConnectorOutputSerializer(items, many=True).data}
        )


class ExchangeConnectorGetApi(APIView):
    permission_classes = [IsReader]

    @extend_schema(
        operation_id="exchange_connector_get", tags=TAG, responses=ExchangeConnectorOutputSerializer
    )
    def get(self, request: Request, connector_id: str) -> Response:
        connector = selectors.exchange_connector_get(
            graph=graph_for(request), connector_id=connector_id
        )
        return Response(ExchangeConnectorOutputSerializer(_row(connector)).data)


class ExchangeConnectorCreateApi(APIView):
    permission_classes = [IsAdmin]
    InputSerializer = serializer_for_form(ExchangeConnectorForm, "ExchangeConnectorCreateInput")

    @extend_schema(
        operation_id="exchange_connector_create",
        tags=TAG,
        request=InputSerializer,
        responses={201: ExchangeConnectorOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        form = validated(ExchangeConnectorForm, request.data)
        created = services.exchange_connector_create(
            graph=graph_for(request), actor=actor_for(request), values=form.graph_values()
        )
        return Response(
            ExchangeConnectorOutputSerializer(_row(created)).data, status=status.HTTP_201_CREATED
        )


class ExchangeConnectorUpdateApi(APIView):
    permission_classes = [IsAdmin]
    InputSerializer = update_input_serializer(ExchangeConnectorForm, "ExchangeConnector")

    @extend_schema(
        operation_id="exchange_connector_update",
        tags=TAG,
        request=InputSerializer,
        responses=ExchangeConnectorOutputSerializer,
    )
    def patch(self, request: Request, connector_id: str) -> Response:
        changes, reason = validated_update(request, ExchangeConnectorForm, self.InputSerializer)
        updated = services.exchange_connector_update(
            graph=graph_for(request),
            actor=actor_for(request),
            connector_id=connector_id,
            changes=changes,
            reason=reason,
        )
        return Response(ExchangeConnectorOutputSerializer(_row(updated)).data)


class ExchangeConnectorDeleteApi(APIView):
    permission_classes = [IsAdmin]

    InputSerializer = ChangeReasonSerializer

    @extend_schema(
        operation_id="exchange_connector_delete",
        tags=TAG,
        request=InputSerializer,
        responses={204: None},
    )
    def delete(self, request: Request, connector_id: str) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data["reason"]
        services.exchange_connector_delete(
            graph=graph_for(request),
            actor=actor_for(request),
            connector_id=connector_id,
            reason=reason,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SyncOutputSerializer(serializers.Serializer):
    connectorId = serializers.CharField(source="connector_id")  # noqa: N815
    syncType = serializers.CharField(source="sync_type")  # noqa: N815
    requestedDateTime = serializers.DateTimeField(source="requested_at")  # noqa: N815
    outcome = serializers.SerializerMethodField(
        help_text="succeeded (Graph accepted the request), failed (Graph certainly did not apply "
        "it) or unknown (it may have been applied: check lastSyncDateTime and the audit log)"
    )
    error = serializers.SerializerMethodField()

    def get_outcome(self, result: Any) -> str:
        return str(getattr(result, "outcome", "succeeded"))

    def get_error(self, result: Any) -> dict[str, Any] | None:
        error = getattr(result, "error", None)
        if error is None:
            return None
        return {
            "status": error.status,
            "code": error.code,
            "message": error.message,
            "graph_request_id": error.request_id,
        }


class ExchangeConnectorSyncApi(APIView):
    permission_classes = [IsOperator]

    @extend_schema_serializer(component_name="ExchangeConnectorSyncInput")
    class InputSerializer(serializers.Serializer):
        syncType = serializers.ChoiceField(choices=ExchangeSyncType.values)  # noqa: N815

    @extend_schema(
        operation_id="exchange_connector_sync",
        tags=TAG,
        request=InputSerializer,
        responses={202: SyncOutputSerializer},
    )
    def post(self, request: Request, connector_id: str) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        sync = services.exchange_connector_sync(
            graph=graph_for(request),
            actor=actor_for(request),
            connector_id=connector_id,
            sync_type=body.validated_data["syncType"],
        )
        # Accepted, not done: the sync lands when lastSyncDateTime moves past requestedDateTime.
        return Response(SyncOutputSerializer(sync).data, status=status.HTTP_202_ACCEPTED)


class ExchangeConnectorBulkSyncApi(APIView):
    permission_classes = [IsOperator]

    @extend_schema_serializer(component_name="ExchangeConnectorBulkSyncInput")
    class InputSerializer(serializers.Serializer):
        connectorIds = serializers.ListField(  # noqa: N815
            child=serializers.CharField(max_length=64), min_length=1, max_length=500
        )
        syncType = serializers.ChoiceField(choices=ExchangeSyncType.values)  # noqa: N815

    @extend_schema_serializer(component_name="ExchangeConnectorBulkSyncOutput")
    class OutputSerializer(serializers.Serializer):
        results = SyncOutputSerializer(many=True)

    @extend_schema(
        operation_id="exchange_connector_bulk_sync",
        tags=TAG,
        request=InputSerializer,
        responses={200: OutputSerializer},
    )
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = services.exchange_connector_bulk_sync(
            graph=graph_for(request),
            actor=actor_for(request),
            connector_ids=body.validated_data["connectorIds"],
            sync_type=body.validated_data["syncType"],
        )
        return Response({"results": SyncOutputSerializer(results, many=True).data})

"""The audit log and Intune's audit events over the JSON API (read-only, any role)."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.exports import audit_csv_chunks
from audit.forms import AuditFilterForm, IntuneFilterForm, audit_filter_data, path_tenant
from audit.models import AuditEntry
from audit.paging import MAX_OFFSET, NoSuchPage, PageError, PageTooDeep, action_page
from audit.selectors import (
    DEFAULT_SORT,
    action_order,
    audit_action_list,
    audit_entry_get,
    intune_audit_event_page,
    intune_filter_choices,
    intune_next_link_is_ours,
)
from kernel.api.docs import JsonErrorsMixin
from kernel.api.forms import query_parameters, validated
from kernel.api.paging import MAX_PAGE_SIZE
from kernel.api.permissions import IsReader
from kernel.csv_export import csv_download
from kernel.graph_clients import graph_for

TAG = ["Audit log"]
PAGING = {"page", "page_size", "cursor"}


class AuditActionOutputSerializer(serializers.Serializer):
    """One action: the attempt joined with its outcome (none yet: outcome "unknown")."""

    id = serializers.IntegerField()
    time = serializers.DateTimeField(source="created_at")
    correlationId = serializers.UUIDField(source="correlation_id")  # noqa: N815
    actor = serializers.SerializerMethodField()
    tenantId = serializers.CharField(source="tenant_id")  # noqa: N815
    action = serializers.CharField()
    target = serializers.SerializerMethodField()
    before = serializers.DictField()
    after = serializers.DictField()
    reason = serializers.CharField()
    outcome = serializers.CharField(source="shown_outcome")
    graph = serializers.SerializerMethodField()
    channel = serializers.CharField()
    clientIp = serializers.CharField(source="client_ip")  # noqa: N815

    def get_actor(self, entry: AuditEntry) -> dict[str, str]:
        return {"oid": entry.actor_oid, "upn": entry.actor_upn, "name": entry.actor_name}

    def get_target(self, entry: AuditEntry) -> dict[str, str]:
        outcome = _outcome_entry(entry)
        return {
            "type": entry.target_type,
            "id": entry.target_id or (outcome.target_id if outcome else ""),
            "name": entry.target_name,
        }

    def get_graph(self, entry: AuditEntry) -> dict[str, Any]:
        outcome = _outcome_entry(entry) or entry
        return {
            "status": outcome.graph_status,
            "code": outcome.graph_code,
            "requestId": outcome.graph_request_id,
            "operationId": outcome.graph_operation_id,
            "activityId": outcome.graph_activity_id,
            "error": outcome.error_message,
        }


def _outcome_entry(entry: AuditEntry) -> AuditEntry | None:
    return getattr(entry, "outcome_entry", None)


def _audit_filters(request: Request) -> AuditFilterForm:
    data = audit_filter_data(request._request)
    params = {k: v for k, v in data.items() if k not in PAGING | {"format"}}
    return validated(AuditFilterForm, params)


class AuditPageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(
        required=False,
        min_value=1,
        default=1,
        help_text=f"Page numbers reach the first {MAX_OFFSET:,} actions; use `cursor` past them.",
    )
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=50
    )
    cursor = serializers.CharField(
        required=False, default="", help_text="A page's `next_cursor` or `previous_cursor`."
    )


@extend_schema_serializer(component_name="AuditActionPage")
class AuditActionPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        help_text="Exact up to 1,000 actions; past that PostgreSQL's estimate (`count_exact`)."
    )
    count_exact = serializers.BooleanField()
    page = serializers.IntegerField(allow_null=True, help_text="Null on a `cursor` page.")
    pages = serializers.IntegerField()
    page_size = serializers.IntegerField()
    next_cursor = serializers.CharField(allow_null=True)
    previous_cursor = serializers.CharField(allow_null=True)
    results = AuditActionOutputSerializer(many=True)


class AuditEntryListApi(APIView):
    permission_classes = [IsReader]

    @extend_schema(
        operation_id="audit_entry_list",
        tags=TAG,
        parameters=[*query_parameters(AuditFilterForm), AuditPageQuerySerializer],
        responses=AuditActionPageSerializer,
    )
    def get(self, request: Request) -> Response:
        form = _audit_filters(request)
        query = AuditPageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        filters = form.filters()
        try:
            page = action_page(
                audit_action_list(filters=filters),
                action_order(filters.sort or DEFAULT_SORT),
                page=params["page"],
                cursor=params["cursor"],
                page_size=params["page_size"],
            )
        except NoSuchPage as exc:
            # Past the last page is a 404 (a script looping "until empty" must stop).
            raise NotFound(str(exc)) from exc
        except PageTooDeep as exc:
            raise ValidationError({"page": [str(exc)]}) from exc
        except PageError as exc:
            raise ValidationError({"cursor": [str(exc)]}) from exc
        return Response(
            {
                "count": page.count,
                "count_exact": page.count_exact,
                "page": page.number,
                "pages": page.num_pages,
                "page_size": page.page_size,
                "next_cursor": page.next_cursor,
                "previous_cursor": page.previous_cursor,
                "results": AuditActionOutputSerializer(page.object_list, many=True).data,
            }
        )


class AuditEntryGetApi(APIView):
    permission_classes = [IsReader]

    @extend_schema(operation_id="audit_entry_get", tags=TAG, responses=AuditActionOutputSerializer)
    def get(self, request: Request, entry_id: int) -> Response:
        # Past the column's range no entry can exist (and the database would refuse the query).
        tenant = path_tenant(request._request)
        entry = audit_entry_get(entry_id=entry_id, tenant=tenant) if 0 < entry_id < 2**63 else None
        if entry is None:
            raise NotFound("No audit entry with this id.")
        action = audit_action_list().filter(pk=entry.attempt_id or entry.pk).first()
        return Response(AuditActionOutputSerializer(action or entry).data)


class CsvRenderer(BaseRenderer):
    """Lets content negotiation accept `Accept: text/csv` (and `?format=csv`): the export
    streams its own bytes, so nothing is ever rendered through this."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        raise NotImplementedError("The CSV export streams; errors are rendered as JSON.")


class AuditEntryCsvApi(JsonErrorsMixin, APIView):
    """The filtered audit log as CSV, streamed: the same actions as the list, every page."""

    permission_classes = [IsReader]
    # JSON first, so a client that accepts anything gets JSON errors; errors are JSON even for
    # a client that asked only for CSV (JsonErrorsMixin).
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        operation_id="audit_entry_csv",
        tags=TAG,
        parameters=query_parameters(AuditFilterForm),
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        form = _audit_filters(request)
        return csv_download(
            audit_csv_chunks(audit_action_list(filters=form.filters())), name="audit-log"
        )


class IntuneAuditEventOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    displayName = serializers.CharField(source="display_name")  # noqa: N815
    activity = serializers.CharField()
    activityType = serializers.CharField(source="activity_type")  # noqa: N815
    activityOperationType = serializers.CharField(source="activity_operation_type")  # noqa: N815
    activityResult = serializers.CharField(source="activity_result")  # noqa: N815
    activityDateTime = serializers.DateTimeField(source="activity_date_time", allow_null=True)  # noqa: N815
    category = serializers.CharField()
    componentName = serializers.CharField(source="component_name")  # noqa: N815
    correlationId = serializers.CharField(source="correlation_id")  # noqa: N815
    actor = serializers.SerializerMethodField()

    def get_actor(self, event: Any) -> str:
        return event.actor.display


class IntuneAuditEventListApi(APIView):
    permission_classes = [IsReader]

    @extend_schema_serializer(component_name="IntuneAuditEventPage")
    class OutputSerializer(serializers.Serializer):
        results = IntuneAuditEventOutputSerializer(many=True)
        next = serializers.CharField(
            allow_null=True, help_text="Pass as `next` for the following page."
        )

    @extend_schema(
        operation_id="intune_audit_event_list",
        tags=TAG,
        parameters=[
            OpenApiParameter("date_from", OpenApiTypes.DATE, required=False),
            OpenApiParameter("date_to", OpenApiTypes.DATE, required=False),
            OpenApiParameter("category", str, required=False),
            OpenApiParameter("activity_type", str, required=False),
            OpenApiParameter("next", str, required=False),
        ],
        responses=OutputSerializer,
    )
    def get(self, request: Request) -> Response:
        graph = graph_for(request)
        categories, activity_types = intune_filter_choices(
            graph=graph, category=request.query_params.get("category", "")
        )
        form = validated(
            IntuneFilterForm,
            {k: v for k, v in request.query_params.items() if k != "page"},
            categories=categories,
            activity_types=activity_types,
            next_link_allowed=lambda link: intune_next_link_is_ours(graph=graph, next_link=link),
        )
        page = intune_audit_event_page(
            graph=graph, filters=form.filters(), next_link=form.cleaned_data["next"]
        )
        return Response(
            {
                "results": IntuneAuditEventOutputSerializer(page.events, many=True).data,
                "next": page.next_link,
            }
        )

"""Writes to the connectors through Graph, each recorded in the audit log (attempt + outcome)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from audit.batch import BatchItem, audited_graph_batch
from audit.models import Action, TargetType
from audit.services import Actor, Target, audited_graph_write
from connectors import paths
from connectors.graph.batch import BatchRequest
from connectors.graph.client import GraphClient
from connectors.graph.errors import GraphError
from connectors.records import ExchangeConnector, same_graph_value
from connectors.selectors import exchange_connector_get

Changes = Mapping[str, tuple[Any, Any]]


class EditConflict(Exception):
    """The connector changed in Graph since the form was opened, on fields the admin changed."""

    def __init__(self, current: ExchangeConnector, fields: dict[str, tuple[Any, Any, Any]]) -> None:
        super().__init__("The connector changed in Graph since the form was opened.")
        self.current = current
        # property → (value when the form was opened, value in Graph now, the admin's value)
        self.fields = fields


def _exchange_target(connector_id: str = "", name: str = "") -> Target:
    return Target(type=TargetType.EXCHANGE_CONNECTOR, id=connector_id, name=name)


def exchange_connector_create(
    *, graph: GraphClient, actor: Actor, values: Mapping[str, Any], reason: str = ""
) -> ExchangeConnector:
    body = {name: value for name, value in values.items() if value not in (None, "")}
    with audited_graph_write(
        actor=actor,
        action=Action.EXCHANGE_CONNECTOR_CREATE,
        target=_exchange_target(name=str(values.get("serverName", ""))),
        before={},
        after=body,
        reason=reason,
    ) as write:
        response = graph.post(
            paths.EXCHANGE_CONNECTORS, json=body, client_request_id=write.correlation_id
        )
        created = ExchangeConnector.from_graph(response.body or {})
        write.report(response, target_id=created.id)
    return created


def exchange_connector_update(
    *,
    graph: GraphClient,
    actor: Actor,
    connector_id: str,
    changes: Changes,
    reason: str = "",
) -> ExchangeConnector:
    """PATCH only the changed fields, unless Graph changed one of them since the form opened.

    `changes` maps each changed property to (value when the form was opened, new value). One GET
    (the conflict check) and one PATCH.
    """
    current = exchange_connector_get(graph=graph, connector_id=connector_id)
    now_in_graph = current.graph_values()
    conflicts = {
        name: (opened, now_in_graph.get(name), new)
        for name, (opened, new) in changes.items()
        if not same_graph_value(name, opened, now_in_graph.get(name))
    }
    if conflicts:
        raise EditConflict(current, conflicts)
    patch = {name: new for name, (_, new) in changes.items()}
    with audited_graph_write(
        actor=actor,
        action=Action.EXCHANGE_CONNECTOR_UPDATE,
        target=_exchange_target(connector_id, current.display_name),
        before={name: now_in_graph.get(name) for name in patch},
        after=patch,
        reason=reason,
    ) as write:
        response = graph.patch(
            paths.exchange_connector(connector_id),
            json=patch,
            client_request_id=write.correlation_id,
        )
        write.report(response)
    if isinstance(response.body, dict) and response.body.get("id"):
        return ExchangeConnector.from_graph(response.body)
    # 204: Graph applied the PATCH without echoing the entity.
    return ExchangeConnector.from_graph({**_graph_dict(current), **patch})


def _graph_dict(connector: ExchangeConnector) -> dict[str, Any]:
    return {"id": connector.id, **connector.graph_values()}


def exchange_connector_delete(
    *, graph: GraphClient, actor: Actor, connector_id: str, reason: str = ""
) -> ExchangeConnector:
    """Delete a connector; the audit entry keeps every value it had."""
    current = exchange_connector_get(graph=graph, connector_id=connector_id)
    with audited_graph_write(
        actor=actor,
        action=Action.EXCHANGE_CONNECTOR_DELETE,
        target=_exchange_target(connector_id, current.display_name),
        before=current.graph_values(),
        after={},
        reason=reason,
    ) as write:
        response = graph.delete(
            paths.exchange_connector(connector_id), client_request_id=write.correlation_id
        )
        write.report(response)
    return current


@dataclass(frozen=True)
class SyncRequest:
    connector_id: str
    sync_type: str
    requested_at: datetime


def exchange_connector_sync(
    *,
    graph: GraphClient,
    actor: Actor,
    connector_id: str,
    sync_type: str,
    display_name: str = "",
) -> SyncRequest:
    """Ask the connector to sync. Graph answers 204 at once; the sync itself lands later."""
    requested_at = timezone.now()
    with audited_graph_write(
        actor=actor,
        action=Action.EXCHANGE_CONNECTOR_SYNC,
        target=_exchange_target(connector_id, display_name),
        after={"syncType": sync_type},
    ) as write:
        response = graph.post(
            paths.exchange_connector_sync(connector_id),
            json={"syncType": sync_type},
            client_request_id=write.correlation_id,
        )
        write.report(response)
    return SyncRequest(connector_id=connector_id, sync_type=sync_type, requested_at=requested_at)


@dataclass(frozen=True)
class BulkSyncResult:
    connector_id: str
    sync_type: str
    requested_at: datetime
    error: GraphError | None


def exchange_connector_bulk_sync(
    *, graph: GraphClient, actor: Actor, connector_ids: Sequence[str], sync_type: str
) -> list[BulkSyncResult]:
    """Sync many connectors through `$batch` (20 per POST); each keeps its own outcome."""
    unique_ids = list(dict.fromkeys(connector_ids))
    requested_at = timezone.now()
    items = [
        BatchItem(
            item_id=str(index),
            target=_exchange_target(connector_id),
            after={"syncType": sync_type},
        )
        for index, connector_id in enumerate(unique_ids)
    ]
    with audited_graph_batch(
        actor=actor, action=Action.EXCHANGE_CONNECTOR_SYNC, items=items
    ) as writes:
        answers = graph.batch(
            BatchRequest(
                id=write.item_id,
                method="POST",
                url=paths.exchange_connector_sync(write.item.target.id),
                body={"syncType": sync_type},
                headers={"client-request-id": write.correlation_id},
            )
            for write in writes
        )
        for write in writes:
            write.report(answers[write.item_id])
    return [
        BulkSyncResult(
            connector_id=write.item.target.id,
            sync_type=sync_type,
            requested_at=requested_at,
            error=answers[write.item_id].error,
        )
        for write in writes
    ]

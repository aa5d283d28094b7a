"""Writes to the connectors through Graph, each recorded in the audit log (attempt + outcome)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from audit.batch import BatchItem, audited_graph_batch
from audit.models import Action, Outcome, TargetType
from audit.services import Actor, Target, audited_graph_write, failure_outcome
from connectors import paths
from connectors.editing import Changes, GraphRecord, reviewed_update
from connectors.graph.batch import BatchRequest
from connectors.graph.client import GraphClient
from connectors.graph.deadline import current_deadline
from connectors.graph.errors import GraphError, GraphNotSent
from connectors.records import (
    AppProxyConnector,
    ConnectorGroup,
    ExchangeConnector,
    same_graph_value,
)
from connectors.selectors import (
    app_proxy_connector_get,
    app_proxy_connector_group_get,
    connector_group_get,
    connector_group_row_get,
    exchange_connector_get,
)
from dashboard.locks import LockTimeout, object_lock


@contextmanager
def serialised(target_type: str, object_id: str) -> Iterator[None]:
    """One check-then-write of an object at a time, across workers and hosts (dashboard.locks).

    Without it two admins editing from the same form state both pass the conflict check and the
    second PATCH silently overwrites the first. The wait ends with the request's Graph deadline:
    then nothing is sent (`GraphNotSent`).
    """
    deadline = current_deadline()
    seconds = deadline.remaining() if deadline else settings.GRAPH_BACKGROUND_DEADLINE_SECONDS
    try:
        with object_lock(f"{target_type}:{object_id}", wait_seconds=seconds, hold_seconds=seconds):
            yield
    except LockTimeout as exc:
        error = GraphNotSent(
            "Another change to this object was still being saved when the dashboard's time for "
            "Graph ran out; nothing was sent."
        )
        error.write = True
        raise error from exc


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
    (the conflict check) and one PATCH, serialised per connector; `EditConflict` when the GET
    shows someone else's change.
    """
    return ExchangeConnector.from_graph(
        _serialised_update(
            graph=graph,
            actor=actor,
            action=Action.EXCHANGE_CONNECTOR_UPDATE,
            target_type=TargetType.EXCHANGE_CONNECTOR,
            object_id=connector_id,
            path=paths.exchange_connector(connector_id),
            load=lambda: exchange_connector_get(graph=graph, connector_id=connector_id),
            changes=changes,
            reason=reason,
        )
    )


def _serialised_update(
    *,
    graph: GraphClient,
    actor: Actor,
    action: str,
    target_type: str,
    object_id: str,
    path: str,
    load: Callable[[], GraphRecord],
    changes: Changes,
    reason: str,
) -> dict[str, Any]:
    """`load()` (the conflict check's GET) and `reviewed_update`, under the object's lock."""
    with serialised(target_type, object_id):
        return reviewed_update(
            graph=graph,
            actor=actor,
            action=action,
            target_type=target_type,
            path=path,
            current=load(),
            changes=changes,
            reason=reason,
        )


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

    @property
    def outcome(self) -> Outcome:
        """This connector's own outcome, by the audit log's rules (docs/audit.md)."""
        return Outcome.SUCCEEDED if self.error is None else failure_outcome(self.error)


def exchange_connector_bulk_sync(
    *, graph: GraphClient, actor: Actor, connector_ids: Sequence[str], sync_type: str
) -> list[BulkSyncResult]:
    """Sync many connectors through `$batch` (20 per POST); each keeps its own outcome, whatever
    happens to the other POSTs (a failed POST's items get its error, classified as one write)."""
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


# -- Application Proxy ----------------------------------------------------------------------------


class ChangeRefused(Exception):
    """A rule the dashboard checks before asking Graph refused the change; nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def app_proxy_connector_update(
    *,
    graph: GraphClient,
    actor: Actor,
    connector_id: str,
    changes: Changes,
    reason: str = "",
) -> AppProxyConnector:
    """PATCH the changed fields (one GET for the conflict check, one PATCH), serialised."""
    return AppProxyConnector.from_graph(
        _serialised_update(
            graph=graph,
            actor=actor,
            action=Action.APP_PROXY_CONNECTOR_UPDATE,
            target_type=TargetType.APP_PROXY_CONNECTOR,
            object_id=connector_id,
            path=paths.app_proxy_connector(connector_id),
            load=lambda: app_proxy_connector_get(graph=graph, connector_id=connector_id),
            changes=changes,
            reason=reason,
        )
    )


def app_proxy_connector_move(
    *,
    graph: GraphClient,
    actor: Actor,
    connector: AppProxyConnector,
    from_group: ConnectorGroup | None,
    to_group: ConnectorGroup,
    reason: str = "",
) -> None:
    """Move a connector to another applicationProxy group: POST memberOf/$ref (201 or 204).

    `from_group` is the group the admin saw it in: serialised per connector, one GET checks Graph
    still has it there (else `ChangeRefused`, nothing sent), and the audit's "before" is Graph's.
    """
    if not to_group.is_application_proxy:
        raise ChangeRefused(
            f"{to_group.display_name} is a {to_group.type_label} group: connectors can only be "
            "moved to Application Proxy groups."
        )
    with serialised(TargetType.APP_PROXY_CONNECTOR, connector.id):
        current = app_proxy_connector_group_get(graph=graph, connector_id=connector.id)
        if (current.id if current else "") != (from_group.id if from_group else ""):
            raise ChangeRefused(
                f"{connector.display_name} is now in "
                f"{current.display_name if current else 'no group'}: someone moved it since this "
                "form was opened. Nothing was changed; open the move again."
            )
        with audited_graph_write(
            actor=actor,
            action=Action.APP_PROXY_CONNECTOR_MOVE,
            target=Target(
                type=TargetType.APP_PROXY_CONNECTOR, id=connector.id, name=connector.display_name
            ),
            before={"memberOf": _group_ref(current)} if current else {},
            after={"memberOf": _group_ref(to_group)},
            reason=reason,
        ) as write:
            response = graph.post(
                paths.app_proxy_connector_member_of_ref(connector.id),
                json={"@odata.id": graph.url_for(paths.connector_group(to_group.id))},
                client_request_id=write.correlation_id,
            )
            write.report(response)


def _group_ref(group: ConnectorGroup) -> dict[str, str]:
    return {"id": group.id, "name": group.name}


def _group_target(group_id: str = "", name: str = "") -> Target:
    return Target(type=TargetType.CONNECTOR_GROUP, id=group_id, name=name)


def connector_group_create(
    *, graph: GraphClient, actor: Actor, name: str, region: str = "", reason: str = ""
) -> ConnectorGroup:
    body = {"name": name, **({"region": region} if region else {})}
    with audited_graph_write(
        actor=actor,
        action=Action.CONNECTOR_GROUP_CREATE,
        target=_group_target(name=name),
        after=body,
        reason=reason,
    ) as write:
        response = graph.post(
            paths.CONNECTOR_GROUPS, json=body, client_request_id=write.correlation_id
        )
        created = ConnectorGroup.from_graph(response.body or {})
        write.report(response, target_id=created.id)
    return created


def connector_group_update(
    *, graph: GraphClient, actor: Actor, group_id: str, changes: Changes, reason: str = ""
) -> ConnectorGroup:
    """Rename or re-region. The region may change only while the group is empty (Graph refuses
    otherwise): checked here first, so nothing is sent (`ChangeRefused`). Serialised per group."""

    def load() -> ConnectorGroup:
        current = connector_group_get(graph=graph, group_id=group_id)
        new_region = changes["region"][1] if "region" in changes else current.region
        if not same_graph_value("region", current.region, new_region) and (
            region_lock := connector_group_row_get(graph=graph, group_id=group_id).region_lock
        ):
            raise ChangeRefused(region_lock)
        return current

    return ConnectorGroup.from_graph(
        _serialised_update(
            graph=graph,
            actor=actor,
            action=Action.CONNECTOR_GROUP_UPDATE,
            target_type=TargetType.CONNECTOR_GROUP,
            object_id=group_id,
            path=paths.connector_group(group_id),
            load=load,
            changes=changes,
            reason=reason,
        )
    )


def connector_group_delete(
    *, graph: GraphClient, actor: Actor, group_id: str, reason: str = ""
) -> ConnectorGroup:
    """Delete an empty, non-default group; otherwise `ChangeRefused` and nothing is sent."""
    row = connector_group_row_get(graph=graph, group_id=group_id)
    if refusal := row.delete_refusal:
        raise ChangeRefused(refusal)
    with audited_graph_write(
        actor=actor,
        action=Action.CONNECTOR_GROUP_DELETE,
        target=_group_target(group_id, row.group.name),
        before=row.group.graph_values(),
        reason=reason,
    ) as write:
        response = graph.delete(
            paths.connector_group(group_id), client_request_id=write.correlation_id
        )
        write.report(response)
    return row.group

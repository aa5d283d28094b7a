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
from connectors.errors import ChangeRefused, EditConflict
from connectors.records import (
    NOT_CHECKED,
    AppProxyConnector,
    Changes,
    ConnectorGroup,
    ExchangeConnector,
    GraphRecord,
    same_graph_value,
)
from connectors.selectors import (
    app_proxy_connector_get,
    app_proxy_connector_group_get,
    connector_group_get,
    connector_group_row_get,
    exchange_connector_get,
    exchange_connector_list,
)
from graph.batch import BatchRequest
from graph.client import GraphClient
from graph.deadline import current_deadline
from graph.errors import GraphError, GraphNotSent
from kernel.locks import LockTimeout, object_lock


@contextmanager
def serialised(target_type: str, object_id: str) -> Iterator[None]:
    """One check-then-write of an object at a time, across workers and hosts (kernel.locks).

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
        _reviewed_update(
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
    connector: ExchangeConnector
    sync_type: str
    requested_at: datetime

    @property
    def connector_id(self) -> str:
        return self.connector.id


def exchange_connector_sync(
    *, graph: GraphClient, actor: Actor, connector_id: str, sync_type: str
) -> SyncRequest:
    """Ask the connector to sync. Graph answers 204 at once; the sync itself lands later.

    One GET first: the audit entry names the connector, and a connector that is gone is a 404
    before anything is recorded as attempted."""
    connector = exchange_connector_get(graph=graph, connector_id=connector_id)
    requested_at = timezone.now()
    with audited_graph_write(
        actor=actor,
        action=Action.EXCHANGE_CONNECTOR_SYNC,
        target=_exchange_target(connector_id, connector.display_name),
        after={"syncType": sync_type},
    ) as write:
        response = graph.post(
            paths.exchange_connector_sync(connector_id),
            json={"syncType": sync_type},
            client_request_id=write.correlation_id,
        )
        write.report(response)
    return SyncRequest(connector=connector, sync_type=sync_type, requested_at=requested_at)


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
    happens to the other POSTs (a failed POST's items get its error, classified as one write).

    The connectors' names come from one paged list first, so each audit entry names its target
    as a single sync's does (a connector that is gone keeps only its id, and Graph's 404)."""
    unique_ids = list(dict.fromkeys(connector_ids))
    names = {
        row.connector.id: row.connector.display_name
        for row in exchange_connector_list(graph=graph, now=timezone.now())
    }
    requested_at = timezone.now()
    items = [
        BatchItem(
            item_id=str(index),
            target=_exchange_target(connector_id, names.get(connector_id, "")),
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
        _reviewed_update(
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
        _reviewed_update(
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


def _reviewed_update(
    *,
    graph: GraphClient,
    actor: Actor,
    action: str,
    target_type: str,
    object_id: str,
    path: str,
    load: Callable[[], GraphRecord],
    changes: Changes,
    reason: str = "",
) -> dict[str, Any]:
    """PATCH only the changed fields, unless Graph changed one of them since the form opened.

    `load()` reads the object as Graph has it now (the conflict check); `changes` maps each
    changed property to (value when the form was opened, new value). The check and the PATCH run
    under the object's lock (`serialised`), so a second editor from the same form state sees the
    first one's change. Returns the object's Graph values after the PATCH (Graph's echo, or — on
    204 — the current ones patched).
    """
    with serialised(target_type, object_id):
        return _checked_patch(
            graph=graph,
            actor=actor,
            action=action,
            target_type=target_type,
            path=path,
            current=load(),
            changes=changes,
            reason=reason,
        )


def _checked_patch(
    *,
    graph: GraphClient,
    actor: Actor,
    action: str,
    target_type: str,
    path: str,
    current: GraphRecord,
    changes: Changes,
    reason: str,
) -> dict[str, Any]:
    now_in_graph = current.graph_values()
    conflicts = {
        name: (opened, now_in_graph.get(name), new)
        for name, (opened, new) in changes.items()
        if opened is not NOT_CHECKED and not same_graph_value(name, opened, now_in_graph.get(name))
    }
    if conflicts:
        raise EditConflict(current, conflicts)
    # A value Graph already has needs no PATCH (and no audit entry): nothing would change.
    patch = {
        name: new
        for name, (_, new) in changes.items()
        if not same_graph_value(name, now_in_graph.get(name), new)
    }
    if not patch:
        return {"id": current.id, **now_in_graph}
    with audited_graph_write(
        actor=actor,
        action=action,
        target=Target(type=target_type, id=current.id, name=current.display_name),
        before={name: now_in_graph.get(name) for name in patch},
        after=patch,
        reason=reason,
    ) as write:
        response = graph.patch(path, json=patch, client_request_id=write.correlation_id)
        write.report(response)
    if isinstance(response.body, dict) and response.body.get("id"):
        return response.body
    return {"id": current.id, **now_in_graph, **patch}

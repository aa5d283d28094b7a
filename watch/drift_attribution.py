"""Where a drift came from: through this dashboard, or from elsewhere.

A change is the dashboard's when its own audit log holds a write to that object, since the
object's baseline was recorded, that set the changed field to the value now seen (a move's
`memberOf`, an edit's field, a create or delete for an object that appeared or went). Anything
else was changed outside the dashboard: then Intune's own audit events are searched for the
object (by resource id, in the same window), for Exchange connectors; App Proxy lives in Entra,
whose changes Intune's audit events do not record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audit.intune import IntuneAuditEvent
from audit.models import AuditEntry
from audit.selectors import (
    audit_actions_by_correlation,
    intune_events_for_resource,
    writes_to_object,
)
from connectors.records import same_graph_value
from graph.client import GraphClient
from graph.errors import GraphError
from kernel.faults import graph_fault_message
from kernel.identity import TenantRefused
from watch.budget import BudgetExceeded
from watch.drift import MEMBERSHIP, PRESENCE, PRESENT, Difference
from watch.models import DriftSource
from watch.observations import ObjectKind

APP_PROXY_NOTE = (
    "App Proxy changes are not in Intune's audit events: Entra's directory audit log records them."
)


@dataclass(frozen=True)
class Attribution:
    # Each change with its "source" (a dashboard change: "audit_entry", an id, and "made_by").
    changes: list[dict[str, Any]]
    source: str  # DriftSource: "dashboard" only when every change is the dashboard's
    intune_event: dict[str, Any] | None
    intune_note: str


def _written_value(entry: AuditEntry, field: str) -> Any:
    after: Mapping[str, Any] = entry.after or {}
    if field == MEMBERSHIP:
        member_of = after.get("memberOf")
        return member_of.get("id") if isinstance(member_of, dict) else None
    return after.get(field)


def explains(entry: AuditEntry, change: Mapping[str, str]) -> bool:
    """Whether this dashboard write made this change (the value it wrote is the one seen)."""
    if change["field"] == PRESENCE:
        verb = "create" if change["after"] == PRESENT else "delete"
        return entry.action.endswith(f".{verb}")
    value = _written_value(entry, change["field"])
    return value is not None and same_graph_value(change["field"], value, change["after"])


def event_summary(event: IntuneAuditEvent, resource_id: str) -> dict[str, Any]:
    """What a drift keeps of Intune's event (JSON-safe, for the incident and the history)."""
    return {
        "id": event.id,
        "activity": event.title,
        "at": event.activity_date_time.isoformat() if event.activity_date_time else "",
        "actor": event.actor.display,
        "result": event.activity_result,
        "correlation_id": event.correlation_id,
        "changes": [
            {"field": p.display_name, "old": p.old_value, "new": p.new_value}
            for resource in event.resources
            if resource.resource_id == resource_id
            for p in resource.modified_properties
        ],
    }


def _intune_match(
    difference: Difference,
    outside: list[dict[str, Any]],
    *,
    since: datetime,
    until: datetime,
    graph: Callable[[], GraphClient],
) -> tuple[dict[str, Any] | None, str]:
    if difference.kind != ObjectKind.EXCHANGE_CONNECTOR:
        return None, APP_PROXY_NOTE
    try:
        events = intune_events_for_resource(
            graph=graph(), resource_id=difference.object_id, since=since, until=until
        )
    except GraphError as error:
        return None, f"Intune's audit events could not be read: {graph_fault_message(error)}"
    except TenantRefused as refused:
        return None, f"Intune's audit events could not be read: the tenant refused ({refused})."
    except BudgetExceeded as exc:
        return None, f"Intune's audit events were not read: {exc}"
    # The dashboard's own writes have Intune events too: not the change from elsewhere.
    ours = audit_actions_by_correlation(
        correlation_ids=[e.correlation_uuid for e in events if e.correlation_uuid]
    )
    events = [e for e in events if str(e.correlation_uuid) not in ours]
    fields = {change["field"] for change in outside}
    for event in events:
        summary = event_summary(event, difference.object_id)
        if fields & {change["field"] for change in summary["changes"]}:
            return summary, ""
    if events:
        return event_summary(events[0], difference.object_id), ""
    return None, "No Intune audit event names this connector in that time."


def attribute(
    *,
    tenant_id: str,
    difference: Difference,
    since: datetime,
    until: datetime,
    graph: Callable[[], GraphClient],
) -> Attribution:
    """Each change's source; for changes from elsewhere, Intune's matching event (or why
    there is none). `graph` is called only when Intune's events are needed."""
    writes = writes_to_object(tenant_id=tenant_id, target_id=difference.object_id, since=since)
    changes: list[dict[str, Any]] = []
    for change in difference.changes:
        entry = next((entry for entry in writes if explains(entry, change)), None)
        if entry is None:
            changes.append({**change, "source": DriftSource.OUTSIDE.value})
        else:
            audit_id = entry.attempt_id or entry.pk
            changes.append(
                {
                    **change,
                    "source": DriftSource.DASHBOARD.value,
                    "audit_entry": audit_id,
                    "made_by": entry.actor_upn,
                }
            )
    outside = [change for change in changes if change["source"] == DriftSource.OUTSIDE]
    if not outside:
        return Attribution(changes, DriftSource.DASHBOARD, None, "")
    event, note = _intune_match(difference, outside, since=since, until=until, graph=graph)
    return Attribution(changes, DriftSource.OUTSIDE, event, note)

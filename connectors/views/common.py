"""What the connector detail pages share: an object's recent changes from the audit log."""

from __future__ import annotations

from typing import Any

from audit.links import audit_history_url
from audit.selectors import AuditFilters, audit_action_list


def change_history(target_type: str, target_id: str) -> dict[str, Any]:
    """A detail page's "Recent changes" (connectors/_recent_changes.html): the last 10 audit
    actions on the object and the link to all of them in the audit log."""
    actions = audit_action_list(filters=AuditFilters(target_type=target_type, target_id=target_id))
    return {
        "recent_changes": actions[:10],
        "history_url": audit_history_url(target_type=target_type, target_id=target_id),
    }

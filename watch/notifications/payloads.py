"""What each kind of channel is sent for a Notice: pure functions of the notice, no I/O.

A notice is stored with its delivery as JSON (`notice_to_json`), so a retry sends what the
incident was when it was announced, not what it has become since.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from watch.observations import Notice

EVENT_TITLES = {"opened": "Opened", "resolved": "Resolved", "test": "Test"}
PRODUCT = "Connector Dashboard"


def notice_to_json(notice: Notice) -> dict[str, Any]:
    values = dataclasses.asdict(notice)
    for name in ("opened_at", "resolved_at"):
        if isinstance(values[name], datetime):
            values[name] = values[name].isoformat()
    return values


def notice_from_json(values: dict[str, Any]) -> Notice:
    known = {f.name for f in dataclasses.fields(Notice)}
    values = {name: value for name, value in values.items() if name in known}
    for name in ("opened_at", "resolved_at"):
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    return Notice(**values)


def title(notice: Notice) -> str:
    """One line: what happened, how bad, where: `Opened (critical): <summary> — <tenant>`."""
    event = EVENT_TITLES.get(notice.event, notice.event.capitalize())
    tenant = notice.tenant_name or notice.tenant_id
    return f"{event} ({notice.severity}): {notice.summary} — {tenant}"


def facts(notice: Notice) -> list[tuple[str, str]]:
    rows = [
        (
            "Tenant",
            f"{notice.tenant_name} ({notice.tenant_id})"
            if notice.tenant_name
            else notice.tenant_id,
        ),
        ("Object", f"{notice.object_name} ({notice.object_kind})"),
        ("Rule", notice.rule),
        ("Severity", notice.severity),
        ("Opened", _when(notice.opened_at)),
    ]
    if notice.resolved_at is not None:
        rows.append(("Resolved", _when(notice.resolved_at)))
    return rows


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def teams_message(notice: Notice) -> dict[str, Any]:
    """A Teams Workflows webhook's input: a message with one Adaptive Card attachment (the
    "Post to a channel when a webhook request is received" template posts the card as it is)."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": title(notice),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": _teams_color(notice),
        },
        {
            "type": "FactSet",
            "facts": [{"title": name, "value": value} for name, value in facts(notice)],
        },
    ]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if notice.url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": f"Open in {PRODUCT}", "url": notice.url}
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _teams_color(notice: Notice) -> str:
    if notice.event == "resolved":
        return "Good"
    return "Attention" if notice.severity == "critical" else "Warning"


def slack_message(notice: Notice) -> dict[str, Any]:
    """A Slack incoming webhook's input: `text` (the notification and fallback) and blocks."""
    fields = [
        {"type": "mrkdwn", "text": f"*{name}*\n{_slack_escape(value)}"}
        for name, value in facts(notice)
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title(notice)[:150]}},
        {"type": "section", "fields": fields[:10]},
    ]
    if notice.url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": f"Open in {PRODUCT}"},
                        "url": notice.url,
                    }
                ],
            }
        )
    return {"text": _slack_escape(title(notice)), "blocks": blocks}


def _slack_escape(text: str) -> str:
    """Slack's three control characters (its mrkdwn reads <…> as links and mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_body(notice: Notice, *, delivery_id: int) -> bytes:
    """The signed webhook's JSON: the notice as it is, plus the delivery id (a receiver's
    idempotency key: a retry after a lost answer carries the same id)."""
    body = {"delivery": delivery_id, **notice_to_json(notice)}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def email_subject(notice: Notice) -> str:
    return f"[{PRODUCT}] {title(notice)}"


def email_text(notice: Notice) -> str:
    lines = [title(notice), ""]
    lines += [f"{name}: {value}" for name, value in facts(notice)]
    if notice.url:
        lines += ["", notice.url]
    return "\n".join(lines) + "\n"

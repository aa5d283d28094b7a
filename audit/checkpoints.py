"""Checkpoints: the chain's head (last id, its hash, the count) at a time, under the key's HMAC.

A checkpoint is emitted as one structured log line (logger `audit.checkpoint`) and, when
AUDIT_CHECKPOINT_WEBHOOK_URL is set, POSTed there as JSON, so a copy lives outside the database.
`audit_verify --checkpoint '<json>'` then proves that everything up to it is still there: the
chain can only show deleted *tail* entries against something kept elsewhere.

`emit_checkpoint()` is what a scheduler calls (cron runs `manage.py audit_checkpoint`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.utils import timezone
from requests import RequestException

from audit import chain
from audit.models import AuditEntry
from graph.outbound import outbound_session

logger = logging.getLogger("audit.checkpoint")
LOG_PREFIX = "audit_checkpoint "


class CheckpointError(Exception):
    """A checkpoint that cannot be taken, read or delivered."""


@dataclass(frozen=True)
class Checkpoint:
    last_id: int
    last_hash: str
    count: int
    time: dt.datetime
    key_id: str
    mac: str = ""

    def payload(self) -> dict[str, Any]:
        """What the HMAC covers."""
        return {
            "lastId": self.last_id,
            "lastHash": self.last_hash,
            "count": self.count,
            "time": self.time,
            "keyId": self.key_id,
        }

    def to_json(self) -> str:
        body = {**self.payload(), "time": chain.canonical_value(self.time), "mac": self.mac}
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    def authentic(self, keys: chain.ChainKeys) -> bool:
        """Whether its HMAC is right under the key it names (False for an unknown key id)."""
        try:
            secret = keys.secret(self.key_id)
        except chain.UnknownKeyError:
            return False
        return chain.same_digest(self.mac, chain.mac(self.payload(), secret))

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Read a checkpoint from its JSON, or the log line carrying it (of several lines, the
        last one holding a JSON object)."""
        lines = [line for line in text.splitlines() if "{" in line]
        line = lines[-1] if lines else ""
        try:
            body = json.loads(line[line.index("{") :]) if line else None
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
            return cls(
                last_id=int(body["lastId"]),
                last_hash=str(body["lastHash"]),
                count=int(body["count"]),
                time=dt.datetime.strptime(body["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                    tzinfo=dt.UTC
                ),
                key_id=str(body["keyId"]),
                mac=str(body["mac"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(
                "This is not an audit checkpoint (expected the JSON object `audit_checkpoint` "
                f"printed, with lastId, lastHash, count, time, keyId and mac): {exc}"
            ) from exc


def take_checkpoint() -> Checkpoint:
    """The chain's head now, signed with the current key. An empty log has nothing to anchor."""
    head = AuditEntry.objects.order_by("-id").values_list("id", "hash").first()
    if head is None:
        raise CheckpointError("The audit log is empty: there is nothing to checkpoint yet.")
    last_id, last_hash = head
    # Ids are assigned under the chain lock and committed in order, so this count is stable.
    count = AuditEntry.objects.filter(id__lte=last_id).count()
    keys = chain.configured_keys()
    unsigned = Checkpoint(
        last_id=last_id,
        last_hash=last_hash,
        count=count,
        time=timezone.now().replace(microsecond=0),
        key_id=keys.current_id,
    )
    signature = chain.mac(unsigned.payload(), keys.secret(keys.current_id))
    return replace(unsigned, mac=signature)


def post_checkpoint(checkpoint: Checkpoint, url: str) -> None:
    """POST the checkpoint's JSON to `url` through the outbound session; raises on failure."""
    try:
        response = outbound_session().post(
            url, data=checkpoint.to_json(), headers={"Content-Type": "application/json"}
        )
    except RequestException as exc:
        raise CheckpointError(f"The checkpoint webhook could not be reached: {exc}") from exc
    if response.status_code >= 400:
        raise CheckpointError(
            f"The checkpoint webhook answered HTTP {response.status_code}; the checkpoint is "
            "in the log line only."
        )


def emit_checkpoint() -> Checkpoint:
    """Take a checkpoint, write it as one log line, and POST it to the webhook if one is set.

    The log line is written first, so a failing webhook (CheckpointError) still leaves a copy.
    """
    checkpoint = take_checkpoint()
    logger.info("%s%s", LOG_PREFIX, checkpoint.to_json())
    if settings.AUDIT_CHECKPOINT_WEBHOOK_URL:
        post_checkpoint(checkpoint, settings.AUDIT_CHECKPOINT_WEBHOOK_URL)
    return checkpoint

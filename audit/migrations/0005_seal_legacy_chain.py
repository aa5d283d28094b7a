"""Bring the entries written before the chain was keyed into the keyed chain.

The legacy entries are not rewritten (the append-only trigger forbids it, and their SHA-256
hashes are the proof of what they were). This migration verifies their chain as it stands and
appends one keyed entry, the seal: its `prev_hash` is the last legacy hash and its `after`
records what was verified (count, head id and hash, intact or the first broken entry). The seal's
HMAC covers both, so from here on rewriting any legacy entry breaks the chain at the seal.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.utils import timezone

from audit import chain

SEAL_ACTION = "auditLog.keyed"


def _verify_legacy(model: Any, using: str) -> dict[str, Any]:
    expected_prev, count, head, broken_at = chain.GENESIS_HASH, 0, None, None
    for entry in model.objects.using(using).order_by("id").iterator(chunk_size=2000):
        count += 1
        if broken_at is None and (
            entry.key_id != chain.LEGACY_KEY_ID
            or entry.prev_hash != expected_prev
            or chain.legacy_hash(entry) != entry.hash
        ):
            broken_at = entry.pk
        expected_prev, head = entry.hash, entry
    return {
        "legacyEntries": count,
        "legacyHeadId": head.pk if head is not None else None,
        "legacyHeadHash": head.hash if head is not None else None,
        "legacyIntact": broken_at is None,
        "legacyBrokenAt": broken_at,
    }


def seal(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    model = apps.get_model("audit", "AuditEntry")
    using = schema_editor.connection.alias
    head = model.objects.using(using).order_by("-id").first()
    if head is None or head.key_id != chain.LEGACY_KEY_ID:
        return  # a new database, or already keyed
    keys = chain.configured_keys()
    facts = _verify_legacy(model, using)
    entry = model(
        created_at=timezone.now(),
        correlation_id=uuid.uuid4(),
        phase="outcome",
        actor_oid="system",
        actor_upn="system",
        actor_name="Migration audit.0005",
        tenant_id="",
        action=SEAL_ACTION,
        target_type="auditLog",
        target_id="",
        target_name="Audit log",
        before={},
        after=facts,
        reason="The chain is keyed from here on; the legacy entries before it are sealed.",
        outcome="succeeded",
        channel="web",
        prev_hash=head.hash,
        key_id=keys.current_id,
    )
    entry.hash = chain.keyed_hash(entry, keys.secret(keys.current_id))
    entry.save(using=using)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_search_index_and_truncate_trigger")]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop, elidable=False)]

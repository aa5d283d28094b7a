"""Notification channels: created, edited and deleted by an Admin (each audited as a local
change, secrets never in the log), a test sent on request, secrets re-encrypted on key rotation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import Action, TargetType
from audit.services import Actor, Target, audit_local_change
from tenants.models import ManagedTenant
from watch import crypto
from watch.models import Delivery, NotificationChannel
from watch.notifications import dispatch
from watch.observations import Notice

SECRET_FIELDS = ("url", "signing_secret")


@dataclass(frozen=True)
class ChannelValues:
    """What a form gives: blank secrets mean "keep the one stored"."""

    name: str
    kind: str
    tenant: ManagedTenant | None
    enabled: bool
    recipients: list[str]
    url: str = ""
    signing_secret: str = ""


def _target(channel: NotificationChannel) -> Target:
    return Target(type=TargetType.NOTIFICATION_CHANNEL, id=str(channel.pk), name=channel.name)


def audit_view(channel: NotificationChannel) -> dict[str, Any]:
    """The channel as the audit log and the pages show it: secrets as set or not, never values."""
    return {
        "name": channel.name,
        "kind": channel.kind,
        "tenant": channel.tenant.tenant_id if channel.tenant else "every tenant",
        "enabled": channel.enabled,
        "recipients": channel.recipient_list,
        **{name: "set" if getattr(channel, name) else "" for name in SECRET_FIELDS},
    }


def _apply(channel: NotificationChannel, values: ChannelValues) -> list[str]:
    """Copy the values onto the row; the secrets replaced (named in the returned list)."""
    channel.name = values.name
    channel.kind = values.kind
    channel.tenant = values.tenant
    channel.enabled = values.enabled
    channel.recipients = "\n".join(values.recipients)
    replaced = []
    for name in SECRET_FIELDS:
        if plaintext := getattr(values, name):
            setattr(channel, name, crypto.encrypt(plaintext))
            replaced.append(name)
    return replaced


def channel_create(*, actor: Actor, values: ChannelValues) -> NotificationChannel:
    channel = NotificationChannel(created_by=actor.upn)
    _apply(channel, values)
    channel.save()
    audit_local_change(
        actor=actor,
        action=Action.NOTIFICATION_CHANNEL_CREATE,
        target=_target(channel),
        after=audit_view(channel),
    )
    return channel


def channel_update(
    *, actor: Actor, channel: NotificationChannel, values: ChannelValues
) -> NotificationChannel:
    before = audit_view(channel)
    replaced = _apply(channel, values)
    channel.save()
    after = audit_view(channel)
    for name in replaced:
        after[name] = "replaced"
    audit_local_change(
        actor=actor,
        action=Action.NOTIFICATION_CHANNEL_UPDATE,
        target=_target(channel),
        before=before,
        after=after,
    )
    return channel


def channel_delete(*, actor: Actor, channel: NotificationChannel) -> None:
    before = audit_view(channel)
    target = _target(channel)
    channel.delete()
    audit_local_change(
        actor=actor, action=Action.NOTIFICATION_CHANNEL_DELETE, target=target, before=before
    )


def send_test(*, channel: NotificationChannel, actor: Actor, url: str = "") -> Delivery:
    """A notice with event "test", delivered like any other (a row, the task, its retries)."""
    tenant = channel.tenant
    notice = Notice(
        event="test",
        incident_id=None,
        tenant_id=tenant.tenant_id if tenant else "",
        tenant_name=tenant.label if tenant else "every tenant",
        rule="test",
        severity="warning",
        object_kind="channel",
        object_id=str(channel.pk),
        object_name=channel.name,
        summary=f"A test from {actor.name or actor.upn}: this channel works",
        opened_at=timezone.now(),
        url=url,
    )
    with transaction.atomic():
        (delivery,) = dispatch.announce(notice, channels=[channel])
    return delivery


def reencrypt_all() -> int:
    """Re-encrypt every channel's secrets under the first key; how many channels changed."""
    changed = 0
    for channel in NotificationChannel.objects.all():
        fields = [
            name
            for name in SECRET_FIELDS
            if getattr(channel, name) and not crypto.under_current_key(getattr(channel, name))
        ]
        for name in fields:
            setattr(channel, name, crypto.reencrypt(getattr(channel, name)))
        if fields:
            channel.save(update_fields=fields)
            changed += 1
    return changed

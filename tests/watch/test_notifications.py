"""Notifications with a real worker: an incident event becomes one delivery per channel, sent
to a local webhook receiver (signature verified) and a local SMTP server, retried with backoff,
never sent twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from audit.services import Actor
from tenants.models import ManagedTenant, TenantSource
from tests.watch.conftest import wait_for
from tests.watch.receivers import (
    Inbox,
    WebhookReceiver,
    signature_ok,
    webhook_receiver,
)
from watch import tasks
from watch.models import ChannelKind, Delivery, DeliveryStatus, NotificationChannel, TaskRun
from watch.notifications import channels, deliveries, payloads, signing
from watch.notifications.channels import ChannelValues
from watch.observations import Notice, incident_event

SECRET = "a-signing-secret-of-some-length"
CONTOSO = "11111111-2222-3333-4444-555555555555"
FABRIKAM = "99999999-8888-7777-6666-555555555555"
ADMIN_ACTOR = Actor.watch(oid="", upn="admin@sandbox.example", name="Admin", tenant_id="", via="")


def notice(event: str = "opened", *, incident_id: int = 7, tenant_id: str = CONTOSO) -> Notice:
    return Notice(
        event=event,
        incident_id=incident_id,
        tenant_id=tenant_id,
        tenant_name="Contoso" if tenant_id == CONTOSO else "Fabrikam",
        rule="group_down",
        severity="critical",
        object_kind="connector_group",
        object_id="group-1",
        object_name="Europe <primary>",
        summary="Connector group Europe <primary> has no active connector",
        opened_at=datetime(2026, 12, 3, 3, 0, tzinfo=UTC),
        resolved_at=datetime(2026, 12, 3, 4, 0, tzinfo=UTC) if event == "resolved" else None,
        url="https://dashboard.example/watch/alerts/7/",
    )


def channel(
    kind: str = ChannelKind.WEBHOOK,
    *,
    url: str = "",
    secret: str = "",
    recipients: list[str] | None = None,
    tenant: ManagedTenant | None = None,
    name: str = "On call",
) -> NotificationChannel:
    return channels.channel_create(
        actor=ADMIN_ACTOR,
        values=ChannelValues(
            name=name,
            kind=kind,
            tenant=tenant,
            enabled=True,
            recipients=recipients or [],
            url=url,
            signing_secret=secret,
        ),
    )


def tenant(tenant_id: str = CONTOSO) -> ManagedTenant:
    return ManagedTenant.objects.create(
        tenant_id=tenant_id, display_name="Contoso", source=TenantSource.MANUAL
    )


def settled(delivery: Delivery | None = None) -> list[Delivery]:
    """Every delivery once none is pending (or the given one is no longer pending)."""

    def done() -> list[Delivery] | None:
        rows = list(Delivery.objects.order_by("id"))
        if delivery is not None:
            mine = next(row for row in rows if row.pk == delivery.pk)
            return rows if mine.status != DeliveryStatus.PENDING else None
        return rows if rows and all(r.status != DeliveryStatus.PENDING for r in rows) else None

    return wait_for(done, seconds=30, what="the deliveries to settle")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver(secret=SECRET) as running:
        yield running


# --- What each kind sends --------------------------------------------------------------------


def test_teams_gets_a_message_with_one_adaptive_card() -> None:
    message = payloads.teams_message(notice())

    assert message["type"] == "message"
    (attachment,) = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    heading, facts = card["body"]
    assert heading["type"] == "TextBlock" and heading["color"] == "Attention"
    assert heading["text"] == (
        "Opened (critical): Connector group Europe <primary> has no active connector — Contoso"
    )
    assert {"title": "Rule", "value": "group_down"} in facts["facts"]
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open in Connector Dashboard",
            "url": "https://dashboard.example/watch/alerts/7/",
        }
    ]
    resolved = payloads.teams_message(notice("resolved"))["attachments"][0]["content"]
    assert resolved["body"][0]["color"] == "Good"
    assert {"title": "Resolved", "value": "2026-12-03 04:00:00 UTC"} in resolved["body"][1]["facts"]


def test_slack_gets_text_and_blocks_with_its_control_characters_escaped() -> None:
    message = payloads.slack_message(notice())

    assert message["text"].startswith("Opened (critical): Connector group Europe &lt;primary&gt;")
    header, section, actions = message["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": payloads.title(notice())},
    }
    assert {"type": "mrkdwn", "text": "*Severity*\ncritical"} in section["fields"]
    assert actions["elements"][0]["url"] == "https://dashboard.example/watch/alerts/7/"


def test_the_readme_receiver_accepts_a_fresh_signature_and_refuses_tampering_and_replays() -> None:
    body = payloads.webhook_body(notice(), delivery_id=42)
    now = int(time.time())

    def headers(timestamp: int, signed_body: bytes = body) -> dict[str, str]:
        return {
            "X-Dashboard-Timestamp": str(timestamp),
            "X-Dashboard-Signature": signing.signature(SECRET, timestamp, signed_body),
        }

    assert signature_ok(SECRET, headers(now), body)
    assert not signature_ok(SECRET, headers(now), body.replace(b"critical", b"warning"))
    assert not signature_ok("another-secret-of-some-length", headers(now), body)
    assert not signature_ok(SECRET, headers(now - 301), body)  # a replay, five minutes on
    assert not signature_ok(SECRET, {**headers(now), "X-Dashboard-Timestamp": str(now + 1)}, body)


def test_a_notice_survives_its_trip_through_the_delivery_row() -> None:
    original = notice("resolved")
    assert payloads.notice_from_json(payloads.notice_to_json(original)) == original


# --- Delivered by a real worker --------------------------------------------------------------


def test_an_incident_event_reaches_a_signed_webhook_once(
    worker: Any, transactional_db: None, receiver: WebhookReceiver
) -> None:
    hook = channel(url=receiver.url, secret=SECRET)

    incident_event.send(sender="alerts", notice=notice())
    incident_event.send(sender="alerts", notice=notice())  # the same event, announced again

    (delivery,) = settled()
    assert (delivery.channel, delivery.incident_id, delivery.event) == (hook, 7, "opened")
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("sent", 1, 200)
    assert delivery.sent_at is not None and delivery.last_error == ""
    (request,) = receiver.received
    assert request.signature_ok is True
    assert request.headers["X-Dashboard-Delivery"] == str(delivery.pk)
    body = request.json()
    assert (body["event"], body["incident_id"], body["delivery"]) == ("opened", 7, delivery.pk)
    assert body["summary"] == "Connector group Europe <primary> has no active connector"

    incident_event.send(sender="alerts", notice=notice("resolved"))

    wait_for(lambda: len(receiver.received) == 2, what="the recovery notice")
    assert receiver.received[1].signature_ok is True
    assert receiver.received[1].json()["resolved_at"] == "2026-12-03T04:00:00+00:00"
    assert [d.event for d in settled()] == ["opened", "resolved"]


def test_a_receiver_that_answers_500_then_200_gets_it_on_the_retry(
    worker: Any, transactional_db: None
) -> None:
    with webhook_receiver(secret=SECRET, statuses=[500, 200]) as flaky:
        channel(url=flaky.url, secret=SECRET)
        incident_event.send(sender="alerts", notice=notice())

        (delivery,) = settled()

    assert (delivery.status, delivery.attempts, delivery.response_status) == ("sent", 2, 200)
    assert delivery.last_error == ""
    assert len(flaky.received) == 2 and all(r.signature_ok for r in flaky.received)
    # Each attempt signs anew; the delivery id (the receiver's idempotency key) stays.
    assert {r.headers["X-Dashboard-Delivery"] for r in flaky.received} == {str(delivery.pk)}
    run = TaskRun.objects.get(task_name="watch.deliver")
    assert (run.attempts, run.status) == (2, "succeeded")


def test_attempts_are_bounded_and_the_last_error_is_kept(
    worker: Any, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks.deliver, "max_retries", 1)
    with webhook_receiver(statuses=[503]) as down:
        channel(ChannelKind.SLACK, url=down.url)
        incident_event.send(sender="alerts", notice=notice())

        (delivery,) = settled()

    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 2, 503)
    assert delivery.last_error == "127.0.0.1 answered HTTP 503: receiver says no."
    assert len(down.received) == 2


def test_a_refusal_is_not_retried_and_the_secret_url_is_not_in_the_error(
    worker: Any, transactional_db: None
) -> None:
    with webhook_receiver(statuses=[404]) as gone:
        channel(ChannelKind.TEAMS, url=gone.url)
        incident_event.send(sender="alerts", notice=notice())

        (delivery,) = settled()

    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 1, 404)
    assert "HTTP 404" in delivery.last_error and "s3cr3t" not in delivery.last_error
    # What Teams' Workflows webhook is posted: the message with its card.
    (posted,) = gone.bodies()
    assert posted["attachments"][0]["content"]["type"] == "AdaptiveCard"


def test_an_unreachable_webhook_is_recorded_without_its_url(
    worker: Any, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks.deliver, "max_retries", 0)
    with webhook_receiver() as closed:
        url = closed.url  # the port is closed once the receiver stops
    channel(ChannelKind.SLACK, url=url)
    incident_event.send(sender="alerts", notice=notice())

    (delivery,) = settled()

    assert delivery.status == "failed" and delivery.response_status is None
    assert delivery.last_error == "127.0.0.1 could not be reached (ConnectionError)."


def test_a_sent_delivery_is_not_sent_again_when_its_task_comes_back(
    worker: Any, transactional_db: None, receiver: WebhookReceiver
) -> None:
    channel(url=receiver.url, secret=SECRET)
    incident_event.send(sender="alerts", notice=notice())
    (delivery,) = settled()

    tasks.deliver.delay(delivery.pk)  # a redelivered message, or a duplicate one

    rerun = wait_for(
        lambda: (
            TaskRun.objects.filter(task_name="watch.deliver", result__skipped="already sent")
            .exclude(result={})
            .first()
        ),
        what="the second run",
    )
    assert rerun.result == {"delivery": delivery.pk, "skipped": "already sent"}
    assert len(receiver.received) == 1
    assert Delivery.objects.get().attempts == 1


def test_mail_reaches_an_smtp_server_for_the_channel_s_tenant_only(
    worker: Any, transactional_db: None, inbox: Inbox
) -> None:
    mail = channel(
        ChannelKind.EMAIL,
        recipients=["oncall@contoso.example", "it@contoso.example"],
        tenant=tenant(),
    )

    incident_event.send(sender="alerts", notice=notice(tenant_id=FABRIKAM))  # not its tenant
    incident_event.send(sender="alerts", notice=notice())

    (delivery,) = settled()
    assert (delivery.channel, delivery.status, delivery.attempts) == (mail, "sent", 1)
    (message,) = inbox.messages
    assert message.rcpt_tos == ["oncall@contoso.example", "it@contoso.example"]
    assert message.mail_from == "watch@dashboard.example"
    (mail_message,) = inbox.parsed()
    assert mail_message["Subject"].strip() == (
        "[Connector Dashboard] Opened (critical): Connector group Europe <primary> has no "
        "active connector — Contoso"
    )
    text = mail_message.get_content()
    assert "Rule: group_down" in text and "https://dashboard.example/watch/alerts/7/" in text


def test_a_global_channel_gets_every_tenant_s_notices_and_a_disabled_one_none(
    worker: Any, transactional_db: None, receiver: WebhookReceiver
) -> None:
    channel(url=receiver.url, secret=SECRET, name="Everyone")
    off = channel(ChannelKind.SLACK, url=receiver.url, name="Off")
    NotificationChannel.objects.filter(pk=off.pk).update(enabled=False)

    incident_event.send(sender="alerts", notice=notice(tenant_id=CONTOSO))
    incident_event.send(sender="alerts", notice=notice(tenant_id=FABRIKAM, incident_id=8))

    rows = settled()
    assert [(d.channel.name, d.incident_id) for d in rows] == [("Everyone", 7), ("Everyone", 8)]
    assert sorted(body["tenant_id"] for body in receiver.bodies()) == sorted([CONTOSO, FABRIKAM])


def test_a_test_notice_is_delivered_like_any_other(
    worker: Any, transactional_db: None, receiver: WebhookReceiver
) -> None:
    hook = channel(url=receiver.url, secret=SECRET)

    first = channels.send_test(channel=hook, actor=ADMIN_ACTOR)
    second = channels.send_test(channel=hook, actor=ADMIN_ACTOR)

    assert first.pk != second.pk  # tests have no incident: each is its own delivery
    rows = settled()
    assert [(d.event, d.status) for d in rows] == [("test", "sent"), ("test", "sent")]
    assert [body["event"] for body in receiver.bodies()] == ["test", "test"]
    assert all(r.signature_ok for r in receiver.received)


def test_a_delivery_whose_message_was_lost_is_queued_again(
    worker: Any, transactional_db: None, receiver: WebhookReceiver
) -> None:
    hook = channel(url=receiver.url, secret=SECRET)
    (lost,) = deliveries.create_deliveries(notice(), [hook])  # made, never queued
    (fresh,) = deliveries.create_deliveries(notice("resolved"), [hook])
    Delivery.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=10))

    call_command("watch_run", "deliver_pending", "--here")

    settled(lost)
    assert Delivery.objects.get(pk=lost.pk).status == "sent"
    assert Delivery.objects.get(pk=fresh.pk).status == "pending"  # not yet due: its task may come
    assert [body["event"] for body in receiver.bodies()] == ["opened"]


def test_two_workers_delivering_the_same_row_at_once_send_it_once(transactional_db: None) -> None:
    """A duplicate message taken by two workers at the same moment: the row's lock lets one send
    while the other waits, then finds it sent."""
    with webhook_receiver(secret=SECRET, delay=0.5) as slow:
        hook = channel(url=slow.url, secret=SECRET)
        (delivery,) = deliveries.create_deliveries(notice(), [hook])
        results: list[dict[str, Any]] = []

        def deliver() -> None:
            try:
                results.append(deliveries.deliver(delivery.pk, final=False))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    assert len(slow.received) == 1
    assert sorted(r.get("skipped", "") for r in results) == ["", "already sent"]
    assert Delivery.objects.get().attempts == 1


# --- Without a worker ------------------------------------------------------------------------


def test_one_delivery_per_channel_and_event_even_if_created_twice(db: None) -> None:
    hook = channel(url="https://hooks.example/a", secret=SECRET)

    assert len(deliveries.create_deliveries(notice(), [hook])) == 1
    assert deliveries.create_deliveries(notice(), [hook]) == []
    assert Delivery.objects.count() == 1


def test_watch_reencrypt_moves_channel_secrets_to_the_first_key(
    db: None, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptography.fernet import Fernet

    hook = channel(url="https://hooks.example/a", secret=SECRET)
    new = Fernet.generate_key().decode()
    settings.WATCH_ENCRYPTION_KEYS = [new, settings.WATCH_ENCRYPTION_KEYS[0]]

    call_command("watch_reencrypt")

    assert "Re-encrypted 1 notification channel(s)" in capsys.readouterr().out
    with connection.cursor() as cursor:
        cursor.execute("SELECT url, signing_secret FROM watch_notificationchannel")
        url, secret = cursor.fetchone()
    assert Fernet(new).decrypt(url.encode()).decode() == "https://hooks.example/a"
    assert Fernet(new).decrypt(secret.encode()).decode() == SECRET
    hook.refresh_from_db()
    assert hook.url == url

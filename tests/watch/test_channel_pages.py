"""The notification channel pages: Admins create, edit, delete and test channels (audited, the
secrets never shown back or logged); everyone else reads; every field refuses bad values."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from audit.models import AuditEntry
from tenants.models import ManagedTenant, TenantSource
from tests.conftest import ADMIN
from watch.models import ChannelKind, Delivery, NotificationChannel
from watch.notifications import channels
from watch.notifications.channels import ChannelValues

NEW = "/watch/channels/new/"
SECRET = "a-signing-secret-of-some-length"
HOOK = "https://hooks.example/services/T000/B000/very-secret-token"
CONTOSO = "11111111-2222-3333-4444-555555555555"


def webhook_form(**changes: str) -> dict[str, str]:
    return {
        "name": "On call",
        "kind": ChannelKind.WEBHOOK,
        "tenant": "",
        "enabled": "on",
        "url": HOOK,
        "signing_secret": SECRET,
        "recipients": "",
        **changes,
    }


def stored_secrets() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT url, signing_secret FROM watch_notificationchannel")
        return cursor.fetchone()


def audit_text() -> str:
    return json.dumps([[e.before, e.after] for e in AuditEntry.objects.all()])


@pytest.fixture
def hook(db: None) -> NotificationChannel:
    from audit.services import Actor

    return channels.channel_create(
        actor=Actor.watch(oid="", upn=ADMIN, name="Admin", tenant_id="", via=""),
        values=ChannelValues(
            name="On call",
            kind=ChannelKind.WEBHOOK,
            tenant=None,
            enabled=True,
            recipients=[],
            url=HOOK,
            signing_secret=SECRET,
        ),
    )


def test_an_admin_creates_a_signed_webhook_kept_encrypted_and_audited(admin_client: Client) -> None:
    ManagedTenant.objects.create(
        tenant_id=CONTOSO, display_name="Contoso", source=TenantSource.MANUAL
    )

    response = admin_client.post(NEW, webhook_form(tenant=CONTOSO))

    channel = NotificationChannel.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/watch/channels/{channel.pk}/"
    assert (channel.name, channel.kind, channel.tenant.tenant_id) == ("On call", "webhook", CONTOSO)
    url, secret = stored_secrets()
    assert url.startswith("gAAAAA") and secret.startswith("gAAAAA")
    assert "hooks.example" not in url and SECRET not in secret
    entry = AuditEntry.objects.get(action="notificationChannel.create")
    assert (entry.actor_upn, entry.target_type, entry.target_id) == (
        ADMIN,
        "notificationChannel",
        str(channel.pk),
    )
    assert entry.after["url"] == "set" and entry.after["signing_secret"] == "set"
    assert entry.after["tenant"] == CONTOSO
    assert "very-secret-token" not in audit_text() and SECRET not in audit_text()
    page = admin_client.get(response["Location"]).content.decode()
    assert "very-secret-token" not in page and SECRET not in page
    assert "Contoso" in page and "Send a test" in page


def test_an_email_channel_keeps_its_recipients(admin_client: Client) -> None:
    form = webhook_form(
        kind=ChannelKind.EMAIL,
        url="",
        signing_secret="",
        recipients="a@x.example, b@x.example\nA@x.example",
    )

    assert admin_client.post(NEW, form).status_code == 302

    channel = NotificationChannel.objects.get()
    assert channel.recipient_list == ["a@x.example", "b@x.example"]
    assert (channel.url, channel.signing_secret) == ("", "")


BAD_INPUT = [
    ({"name": ""}, "name", "This field is required."),
    ({"name": "x" * 121}, "name", "at most 120 characters"),
    ({"kind": "pager"}, "kind", "Select a valid choice."),
    ({"tenant": "00000000-0000-0000-0000-000000000000"}, "tenant", "Select a valid choice."),
    ({"url": "http://hooks.example/x"}, "url", "Use https:// (plain http is allowed only for"),
    ({"url": "ftp://hooks.example/x"}, "url", "Enter the whole webhook URL"),
    ({"url": "hooks dot example"}, "url", "Enter the whole webhook URL"),
    ({"url": ""}, "url", "A Signed JSON webhook channel needs its webhook URL."),
    ({"signing_secret": "short"}, "signing_secret", "Use at least 16 characters (it has 5)."),
    ({"signing_secret": ""}, "signing_secret", "A signed webhook needs a signing secret."),
    (
        {"kind": ChannelKind.EMAIL, "recipients": "ops@x.example bob@"},
        "recipients",
        "“bob@” is not an e-mail address.",
    ),
    ({"kind": ChannelKind.EMAIL, "recipients": " "}, "recipients", "needs at least one recipient"),
    (
        {"kind": ChannelKind.EMAIL, "recipients": " ".join(f"u{i}@x.example" for i in range(51))},
        "recipients",
        "At most 50 recipients.",
    ),
    (
        {"kind": ChannelKind.TEAMS, "url": ""},
        "url",
        "A Microsoft Teams channel needs its webhook URL.",
    ),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_INPUT)
def test_bad_input_names_the_field_keeps_what_was_typed_and_stores_nothing(
    admin_client: Client, changes: dict[str, str], field: str, message: str
) -> None:
    form = webhook_form(**changes)

    response = admin_client.post(NEW, form)
    htmx = admin_client.post(NEW, form, headers={"HX-Request": "true"})

    assert (response.status_code, htmx.status_code) == (400, 422)
    page = response.content.decode()
    errors = response.context["form"].errors
    assert list(errors) == [field] and message in errors[field][0]
    assert f'id="channel-{field}"' in page
    if form["name"]:
        assert f'value="{form["name"]}"' in page  # what was typed is still there
    if form["url"] and field != "url":
        assert form["url"] in page
    assert not NotificationChannel.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="notificationChannel").exists()


def test_plain_http_is_allowed_for_this_machine_or_by_the_setting(
    admin_client: Client, settings: Any
) -> None:
    assert admin_client.post(NEW, webhook_form(url="http://127.0.0.1:8025/hook")).status_code == 302
    assert admin_client.post(NEW, webhook_form(url="http://localhost/hook")).status_code == 302
    settings.WATCH_ALLOW_HTTP_WEBHOOKS = True
    assert admin_client.post(NEW, webhook_form(url="http://hooks.internal/x")).status_code == 302
    assert NotificationChannel.objects.count() == 3


def test_editing_keeps_a_secret_left_blank_and_replaces_a_new_one(
    admin_client: Client, hook: NotificationChannel
) -> None:
    url, secret = stored_secrets()
    edit = f"/watch/channels/{hook.pk}/edit/"
    page = admin_client.get(edit).content.decode()
    assert "Set. Leave blank to keep it" in page and "very-secret-token" not in page

    response = admin_client.post(
        edit, webhook_form(name="Night shift", url="", signing_secret="", kind=ChannelKind.SLACK)
    )

    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.name, hook.kind) == ("Night shift", "webhook")  # the kind stays
    assert stored_secrets() == (url, secret)
    admin_client.post(edit, webhook_form(url="https://hooks.example/new", signing_secret=""))
    new_url, new_secret = stored_secrets()
    assert new_url != url and new_secret == secret
    entries = AuditEntry.objects.filter(action="notificationChannel.update").order_by("id")
    assert [e.after["url"] for e in entries] == ["set", "replaced"]
    assert entries[0].before["name"] == "On call" and entries[0].after["name"] == "Night shift"
    assert "hooks.example" not in audit_text()


def test_deleting_a_channel_is_confirmed_and_audited(
    admin_client: Client, hook: NotificationChannel
) -> None:
    confirm = admin_client.get(f"/watch/channels/{hook.pk}/delete/").content.decode()
    assert "Delete channel On call?" in confirm

    response = admin_client.post(f"/watch/channels/{hook.pk}/delete/")

    assert response.status_code == 302 and response["Location"] == "/watch/channels/"
    assert not NotificationChannel.objects.exists()
    entry = AuditEntry.objects.get(action="notificationChannel.delete")
    assert entry.before["name"] == "On call" and entry.target_id == str(hook.pk)


def test_send_a_test_queues_a_test_delivery_shown_on_the_channel(
    admin_client: Client, hook: NotificationChannel, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(f"/watch/channels/{hook.pk}/test/")

    assert response.status_code == 302
    delivery = Delivery.objects.get()
    assert (delivery.event, delivery.status, delivery.incident_id) == ("test", "pending", None)
    assert delivery.notice["url"] == f"http://testserver/watch/channels/{hook.pk}/"
    assert len(queued) == 1  # watch.deliver, sent once the row is committed
    page = admin_client.get(f"/watch/channels/{hook.pk}/").content.decode()
    assert "Test: A test from" in page and "Pending" in page
    assert 'hx-trigger="every 2s"' in page  # the table follows the delivery until it settles


def test_readers_see_channels_and_deliveries_but_change_nothing(
    reader_client: Client, hook: NotificationChannel
) -> None:
    listing = reader_client.get("/watch/channels/").content.decode()
    assert "On call" in listing and "Signed JSON webhook" in listing and "Every tenant" in listing
    assert "New channel" not in listing
    detail = reader_client.get(f"/watch/channels/{hook.pk}/").content.decode()
    assert "Deliveries" in detail and "Send a test" not in detail
    assert reader_client.get(NEW).status_code == 403
    assert reader_client.post(NEW, webhook_form()).status_code == 403
    assert reader_client.post(f"/watch/channels/{hook.pk}/edit/", webhook_form()).status_code == 403
    assert reader_client.post(f"/watch/channels/{hook.pk}/delete/").status_code == 403
    assert reader_client.post(f"/watch/channels/{hook.pk}/test/").status_code == 403
    assert NotificationChannel.objects.count() == 1 and not Delivery.objects.exists()


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_sign_in() -> None:
    for path in ("/watch/channels/", NEW):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(f"/auth/sign-in/?next={path}")
    assert Client().post("/watch/channels/1/test/").status_code == 302
    assert not Delivery.objects.exists()

"""Sending one notice to one channel: the HTTP channels through the outbound session (its
timeout and CA bundle), e-mail through Django's mail settings. Raises SendFailed, saying whether
trying again may help; its message never holds a secret (a webhook URL is one).
"""

from __future__ import annotations

import json
import smtplib
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from requests import RequestException, Timeout

from graph.outbound import outbound_session
from watch import crypto
from watch.models import ChannelKind, NotificationChannel
from watch.notifications import payloads, signing
from watch.observations import Notice

# Answers after which the same request may well succeed later.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class SendFailed(Exception):
    def __init__(self, message: str, *, retry: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry
        self.status = status


def send(channel: NotificationChannel, notice: Notice, *, delivery_id: int) -> int | None:
    """Send it; the HTTP status of the answer (None for e-mail), or SendFailed."""
    if channel.kind == ChannelKind.EMAIL:
        _send_email(channel, notice)
        return None
    url = _secret(channel.url, "webhook URL")
    if channel.kind == ChannelKind.TEAMS:
        return post_json(url, _json(payloads.teams_message(notice)))
    if channel.kind == ChannelKind.SLACK:
        return post_json(url, _json(payloads.slack_message(notice)))
    body = payloads.webhook_body(notice, delivery_id=delivery_id)
    timestamp = int(time.time())
    headers = {
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.signature(
            _secret(channel.signing_secret, "signing secret"), timestamp, body
        ),
        signing.DELIVERY_HEADER: str(delivery_id),
    }
    return post_json(url, body, headers)


def _json(payload: object) -> bytes:
    return json.dumps(payload).encode()


def _secret(ciphertext: str, what: str) -> str:
    if not ciphertext:
        raise SendFailed(f"The channel has no {what}: edit it and set one.", retry=False)
    try:
        return crypto.decrypt(ciphertext)
    except crypto.CredentialKeyError as exc:
        raise SendFailed(f"The channel's {what} cannot be read: {exc}", retry=False) from exc


def post_json(url: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    """POST JSON; the status of a 2xx answer, else SendFailed (retry on 408/425/429/5xx and on
    no answer). Redirects are not followed: a webhook that moved is a configuration to fix."""
    host = urlsplit(url).hostname or "the webhook"
    try:
        response = outbound_session().post(
            url,
            data=body,
            headers={"Content-Type": "application/json", **(headers or {})},
            timeout=settings.WATCH_NOTIFY_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except Timeout as exc:
        raise SendFailed(
            f"{host} did not answer within {settings.WATCH_NOTIFY_TIMEOUT_SECONDS:g} s.",
            retry=True,
        ) from exc
    except RequestException as exc:
        # Not str(exc): requests puts the URL, a secret for Teams and Slack, in its messages.
        raise SendFailed(
            f"{host} could not be reached ({type(exc).__name__}).", retry=True
        ) from exc
    status = response.status_code
    if 200 <= status < 300:
        return status
    answer = " ".join(response.text[:200].split())
    raise SendFailed(
        f"{host} answered HTTP {status}{': ' + answer if answer else ''}.",
        retry=status in RETRYABLE_STATUSES or status >= 500,
        status=status,
    )


def _send_email(channel: NotificationChannel, notice: Notice) -> None:
    recipients = channel.recipient_list
    if not recipients:
        raise SendFailed("The channel has no recipients: edit it and add some.", retry=False)
    message = EmailMessage(
        subject=payloads.email_subject(notice), body=payloads.email_text(notice), to=recipients
    )
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        raise SendFailed(f"The mail server refused it: {exc}", retry=False) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(
            f"The mail server ({settings.EMAIL_HOST}:{settings.EMAIL_PORT}) could not take it: "
            f"{exc}",
            retry=True,
        ) from exc

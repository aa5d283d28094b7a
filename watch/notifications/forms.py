"""The channel form: each kind's fields checked, the secrets never shown back (blank keeps)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from tenants.models import ManagedTenant
from watch.models import ChannelKind, NotificationChannel
from watch.notifications.channels import ChannelValues

URL_KINDS = {ChannelKind.TEAMS, ChannelKind.SLACK, ChannelKind.WEBHOOK}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
MAX_RECIPIENTS = 50
MIN_SECRET_LENGTH = 16
KEEP = "Set. Leave blank to keep it, or enter a new one to replace it."


def webhook_url(value: str) -> str:
    """An https URL (http only for this machine, or with WATCH_ALLOW_HTTP_WEBHOOKS)."""
    try:
        URLValidator(schemes=["https", "http"])(value)
    except ValidationError:
        raise ValidationError(
            "Enter the whole webhook URL, starting with https://.", code="invalid"
        ) from None
    parts = urlsplit(value)
    if parts.scheme == "http" and not (
        settings.WATCH_ALLOW_HTTP_WEBHOOKS or parts.hostname in LOCAL_HOSTS
    ):
        raise ValidationError(
            "Use https:// (plain http is allowed only for localhost, or with "
            "WATCH_ALLOW_HTTP_WEBHOOKS on).",
            code="insecure",
        )
    return value


def email_addresses(value: str) -> list[str]:
    """Addresses separated by commas, semicolons, spaces or lines; each checked, duplicates
    dropped."""
    addresses: list[str] = []
    for address in re.split(r"[\s,;]+", value.strip()):
        if not address or address.lower() in (a.lower() for a in addresses):
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                f"“{address}” is not an e-mail address.", code="invalid"
            ) from None
        addresses.append(address)
    if len(addresses) > MAX_RECIPIENTS:
        raise ValidationError(f"At most {MAX_RECIPIENTS} recipients.", code="too_many")
    return addresses


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=ChannelKind.choices, label="Kind")
    tenant = forms.ModelChoiceField(
        queryset=ManagedTenant.objects.all(),
        required=False,
        empty_label="Every tenant",
        to_field_name="tenant_id",
        help_text="Whose incidents it gets: one tenant's, or every tenant's.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="On")
    url = forms.CharField(
        required=False,
        max_length=2000,
        label="Webhook URL",
        help_text="Teams, Slack and signed webhooks. Kept encrypted: whoever has it can post.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    signing_secret = forms.CharField(
        required=False,
        max_length=200,
        label="Signing secret",
        strip=False,
        help_text=(
            f"Signed webhooks: {MIN_SECRET_LENGTH}+ characters, the receiver's copy verifies "
            "each request (README: the signature)."
        ),
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
    )
    recipients = forms.CharField(
        required=False,
        label="Recipients",
        help_text="E-mail: one address per line (or separated by commas).",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, channel: NotificationChannel | None = None, **kwargs: Any):
        self.channel = channel
        if channel is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": channel.name,
                    "kind": channel.kind,
                    "tenant": channel.tenant,
                    "enabled": channel.enabled,
                    "recipients": "\n".join(channel.recipient_list),
                },
            )
        super().__init__(*args, **kwargs)
        if channel is not None:
            # A channel's kind stays: its secrets belong to it.
            self.fields["kind"].disabled = True
            for name in ("url", "signing_secret"):
                if getattr(channel, name):
                    self.fields[name].help_text = KEEP

    def _stored(self, name: str) -> bool:
        return self.channel is not None and bool(getattr(self.channel, name))

    def clean_url(self) -> str:
        value = self.cleaned_data["url"].strip()
        return webhook_url(value) if value else ""

    def clean_signing_secret(self) -> str:
        value = self.cleaned_data["signing_secret"]
        if value and len(value) < MIN_SECRET_LENGTH:
            raise ValidationError(
                f"Use at least {MIN_SECRET_LENGTH} characters (it has {len(value)}).",
                code="short",
            )
        return value

    def clean_recipients(self) -> list[str]:
        return email_addresses(self.cleaned_data["recipients"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind")
        if kind in URL_KINDS and "url" in data and not data["url"] and not self._stored("url"):
            self.add_error("url", f"A {ChannelKind(kind).label} channel needs its webhook URL.")
        if (
            kind == ChannelKind.WEBHOOK
            and "signing_secret" in data
            and not data["signing_secret"]
            and not self._stored("signing_secret")
        ):
            self.add_error("signing_secret", "A signed webhook needs a signing secret.")
        if kind == ChannelKind.EMAIL and data.get("recipients") == []:
            self.add_error("recipients", "An e-mail channel needs at least one recipient.")
        return data

    def values(self) -> ChannelValues:
        data = self.cleaned_data
        kind = data["kind"]
        return ChannelValues(
            name=data["name"],
            kind=kind,
            tenant=data["tenant"],
            enabled=data["enabled"],
            recipients=data["recipients"] if kind == ChannelKind.EMAIL else [],
            url=data["url"] if kind in URL_KINDS else "",
            signing_secret=data["signing_secret"] if kind == ChannelKind.WEBHOOK else "",
        )

"""The watch's input: how it sweeps one tenant."""

from __future__ import annotations

from django import forms
from django.conf import settings

MIN_INTERVAL_SECONDS = 60  # the dispatcher's granularity, and Graph's budgets' comfort
MAX_INTERVAL_SECONDS = 86_400


class WatchedTenantForm(forms.Form):
    enabled = forms.BooleanField(
        label="Sweep this tenant",
        required=False,
        help_text="Off: the watch leaves this tenant alone (no sweeps, no history, no alerts).",
    )
    interval_seconds = forms.IntegerField(
        label="Every (seconds)",
        required=False,
        min_value=MIN_INTERVAL_SECONDS,
        max_value=MAX_INTERVAL_SECONDS,
        error_messages={
            "invalid": "Enter a whole number of seconds, e.g. 300 for every 5 minutes.",
            "min_value": f"At least {MIN_INTERVAL_SECONDS} seconds: sweeps are dispatched once a "
            "minute, and each one spends the tenant's Graph budget.",
            "max_value": f"At most {MAX_INTERVAL_SECONDS} seconds (a day).",
        },
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields[
            "interval_seconds"
        ].help_text = f"Empty: the default, every {settings.WATCH_SWEEP_INTERVAL_SECONDS} seconds."
        self.fields["interval_seconds"].widget.attrs.update(
            {"placeholder": str(settings.WATCH_SWEEP_INTERVAL_SECONDS), "inputmode": "numeric"}
        )

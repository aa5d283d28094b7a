"""The scheduled-sync form: every rule for what an Admin may schedule, each error on its field."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from celery.schedules import crontab
from django import forms
from django.core.exceptions import ValidationError
from django_celery_beat import validators

from connectors.enums import ExchangeSyncType
from watch.models import ScheduledSync
from watch.schedules import CRON_FIELDS, WEEKDAYS, ScheduleSpec

ALL, SOME = "all", "some"
INTERVAL, CRON = "interval", "cron"
MAX_EVERY_MINUTES = 7 * 24 * 60  # a week
CRON_FIELD_CHECKS = {
    "minute": ("Minute", validators.minute_validator),
    "hour": ("Hour", validators.hour_validator),
    "day_of_month": ("Day of month", validators.day_of_month_validator),
    "month_of_year": ("Month", validators.month_of_year_validator),
    "day_of_week": ("Weekday", validators.day_of_week_validator),
}
TIME_ZONES = frozenset(available_timezones())


def cron_error(cron: str) -> str:
    """Why `cron` is not a five-field cron expression beat can follow ("" when it is)."""
    parts = cron.split()
    if len(parts) != len(CRON_FIELDS):
        return (
            "A cron expression has five fields: minute hour day-of-month month weekday "
            "(e.g. 30 2 * * 1-5)."
        )
    for name, value in zip(CRON_FIELDS, parts, strict=True):
        label, check = CRON_FIELD_CHECKS[name]
        try:
            check(value)
        except ValidationError as error:
            return f"{label} '{value}' is not valid: {' '.join(error.messages)}"
    try:
        crontab(**dict(zip(CRON_FIELDS, parts, strict=True)))
    except ValueError as error:
        return f"Beat could not follow it: {error}"
    return ""


class ScheduledSyncForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="How the list and the audit log name it.")
    sync_type = forms.ChoiceField(
        label="Sync", choices=ExchangeSyncType.choices, widget=forms.RadioSelect
    )
    targets = forms.ChoiceField(
        label="Connectors",
        choices=[
            (ALL, "Every Exchange connector of the tenant (as it is at each run)"),
            (SOME, "The connectors picked below"),
        ],
        widget=forms.RadioSelect,
        initial=SOME,
    )
    connectors = forms.MultipleChoiceField(
        label="Picked connectors", required=False, widget=forms.CheckboxSelectMultiple
    )
    kind = forms.ChoiceField(
        label="Runs",
        choices=[(INTERVAL, "Every few minutes"), (CRON, "On a cron expression")],
        widget=forms.RadioSelect,
        initial=INTERVAL,
    )
    every_minutes = forms.IntegerField(
        label="Every (minutes)", required=False, min_value=1, max_value=MAX_EVERY_MINUTES
    )
    cron = forms.CharField(
        label="Cron expression",
        required=False,
        max_length=120,
        help_text="minute hour day-of-month month weekday, in the time zone below; "
        "e.g. 30 2 * * 1-5 is 02:30 on weekdays.",
    )
    timezone = forms.CharField(
        label="Time zone",
        max_length=64,
        help_text="An IANA time zone, e.g. Europe/Berlin or America/New_York: cron times and "
        "the maintenance window are read in it.",
    )
    window_start = forms.TimeField(
        label="Maintenance window from",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    window_end = forms.TimeField(
        label="Maintenance window until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Runs that fall in the window are skipped (and recorded as skipped).",
    )
    window_days = forms.TypedMultipleChoiceField(
        label="Maintenance window days",
        required=False,
        coerce=int,
        choices=list(enumerate(WEEKDAYS)),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        data: Any = None,
        *,
        tenant_id: str,
        connectors: dict[str, str],
        instance: ScheduledSync | None = None,
        **kwargs: Any,
    ) -> None:
        """`connectors`: id -> name of the tenant's Exchange connectors (read from Graph);
        an edited schedule's picked connectors stay choosable even if Graph no longer has them."""
        super().__init__(data, **kwargs)
        self.tenant_id = tenant_id
        self.instance = instance
        choices = dict(instance.connector_names) if instance else {}
        choices.update(connectors)
        self.names = choices
        self.fields["connectors"].choices = sorted(
            choices.items(), key=lambda item: item[1].lower()
        )

    @classmethod
    def initial_for(cls, schedule: ScheduledSync) -> dict[str, Any]:
        return {
            "name": schedule.name,
            "sync_type": schedule.sync_type,
            "targets": ALL if schedule.all_connectors else SOME,
            "connectors": list(schedule.connector_ids),
            "kind": CRON if schedule.cron else INTERVAL,
            "every_minutes": schedule.every_minutes,
            "cron": schedule.cron,
            "timezone": schedule.timezone,
            "window_start": schedule.window_start,
            "window_end": schedule.window_end,
            "window_days": list(schedule.window_days),
        }

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = ScheduledSync.objects.filter(tenant_id=self.tenant_id, name__iexact=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError("This tenant already has a scheduled sync with this name.")
        return name

    def clean_cron(self) -> str:
        cron = " ".join(self.cleaned_data["cron"].split())
        if cron and (error := cron_error(cron)):
            raise ValidationError(error)
        return cron

    def clean_timezone(self) -> str:
        name = self.cleaned_data["timezone"].strip()
        if name not in TIME_ZONES:
            raise ValidationError(
                f"'{name}' is not an IANA time zone; use a name such as Europe/Berlin, "
                "America/New_York or UTC."
            )
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("targets") == SOME and "connectors" in data and not data["connectors"]:
            self.add_error(
                "connectors",
                "Pick at least one connector, or schedule every Exchange connector of the tenant.",
            )
        if data.get("kind") == INTERVAL and "every_minutes" in data and not data["every_minutes"]:
            self.add_error("every_minutes", "Say how many minutes apart the runs are.")
        if data.get("kind") == CRON and "cron" in data and not data["cron"]:
            self.add_error("cron", "Enter a cron expression, e.g. 30 2 * * 1-5.")
        self._clean_window(data)
        return data

    def _clean_window(self, data: dict[str, Any]) -> None:
        start, end = data.get("window_start"), data.get("window_end")
        if "window_start" not in data or "window_end" not in data:
            return  # already wrong on its own field
        if (start is None) != (end is None):
            missing = "window_end" if end is None else "window_start"
            self.add_error(missing, "A maintenance window needs both a start and an end time.")
        elif start is not None and end is not None:
            if end <= start:
                self.add_error(
                    "window_end",
                    "The window must end after it starts, within the same day.",
                )
            if not data.get("window_days"):
                self.add_error("window_days", "Pick the days the maintenance window applies to.")
        elif data.get("window_days"):
            self.add_error("window_start", "Days were picked: give the window's start and end.")

    def spec(self) -> ScheduleSpec:
        data = self.cleaned_data
        every = data["targets"] == ALL
        cron = data["kind"] == CRON
        start = data["window_start"]
        return ScheduleSpec(
            name=data["name"],
            sync_type=data["sync_type"],
            all_connectors=every,
            connector_names={} if every else {i: self.names[i] for i in data["connectors"]},
            timezone=str(ZoneInfo(data["timezone"])),
            every_minutes=None if cron else data["every_minutes"],
            cron=data["cron"] if cron else "",
            window_start=start,
            window_end=data["window_end"] if start else None,
            window_days=data["window_days"] if start else [],
        )

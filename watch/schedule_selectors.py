"""What the scheduled-sync list shows: each schedule with its last runs and its next run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connectors.enums import ExchangeSyncType, label_for
from watch.models import ScheduledSync, ScheduleRun
from watch.schedules import next_run_at, when_text, window_text

RUNS_SHOWN = 5


@dataclass(frozen=True)
class ScheduleRow:
    schedule: ScheduledSync
    runs: list[ScheduleRun]
    next_run: datetime | None

    @property
    def last_run(self) -> ScheduleRun | None:
        return self.runs[0] if self.runs else None

    @property
    def sync_label(self) -> str:
        return label_for(ExchangeSyncType, self.schedule.sync_type)

    @property
    def targets(self) -> str:
        if self.schedule.all_connectors:
            return "Every Exchange connector"
        return ", ".join(sorted(self.schedule.connector_names.values(), key=str.lower))

    @property
    def when(self) -> str:
        return when_text(self.schedule)

    @property
    def window(self) -> str:
        return window_text(self.schedule)


def schedule_rows(*, tenant_id: str, now: datetime) -> list[ScheduleRow]:
    """Every schedule of the tenant, by name, with its newest runs (one query for them all)."""
    found = list(ScheduledSync.objects.filter(tenant_id=tenant_id).select_related("periodic_task"))
    runs: dict[int, list[ScheduleRun]] = {schedule.pk: [] for schedule in found}
    for run in ScheduleRun.objects.filter(schedule__in=found):
        if len(runs[run.schedule_id]) < RUNS_SHOWN:
            runs[run.schedule_id].append(run)
    return [
        ScheduleRow(
            schedule=schedule,
            runs=runs[schedule.pk],
            next_run=next_run_at(schedule.periodic_task, now) if schedule.periodic_task else None,
        )
        for schedule in found
    ]

"""What a scheduled sync does when beat sends it: skip (paused, maintenance window), or request
the syncs through `$batch` (the bulk sync service the bulk sync page uses) as the watch acting
for the admin, then — WATCH_SCHEDULED_SYNC_VERIFY_SECONDS later, in a task of its own — read
lastSyncDateTime to see which landed, as a manual sync is verified, and tell the alerts.

    run(schedule, task_id)  ->  ScheduleRun (skipped | pending | failed)
    verify(run)             ->  ScheduleRun (landed | not_landed) + sweep_observed

Each run is a `ScheduleRun` keyed by its task id: a task delivered again after its worker died
finds its row and does not sync twice.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import Outcome
from connectors.enums import SyncProgress
from connectors.selectors import exchange_connector_list, sync_landed
from connectors.services import exchange_connector_bulk_sync
from graph.errors import GraphError
from kernel.faults import graph_fault_message
from kernel.identity import TenantRefused
from watch.credentials import graph_for_watch, watch_actor
from watch.models import ScheduledSync, ScheduleRun, ScheduleRunOutcome
from watch.observations import ObjectKind, Observation, SweepResult, sweep_observed
from watch.schedules import in_window

# A connector's sync request, as the audit log classed it, and what that means before the check.
REQUEST_PROGRESS = {
    Outcome.SUCCEEDED: SyncProgress.PENDING,
    Outcome.FAILED: SyncProgress.REFUSED,
    Outcome.UNKNOWN: SyncProgress.UNKNOWN,
}


def _graph(schedule: ScheduledSync) -> Any:
    return graph_for_watch(via=schedule.via, tenant=schedule.tenant_id)


def _fault_message(schedule: ScheduledSync, error: GraphError | TenantRefused) -> str:
    """What stopped the run, in the admin's terms (Graph's request id included)."""
    if isinstance(error, TenantRefused):
        return (
            f"{schedule.tenant_name or schedule.tenant_id} refused the watch's account a token "
            f"({error.reason.replace('_', ' ')}): {error.detail}"
        )
    return graph_fault_message(error)


def _start(schedule: ScheduledSync, task_id: str) -> tuple[ScheduleRun, bool]:
    return ScheduleRun.objects.get_or_create(
        task_id=task_id,
        defaults={
            "schedule": schedule,
            "started_at": timezone.now(),
            "outcome": ScheduleRunOutcome.PENDING,
        },
    )


def _skip(run: ScheduleRun, message: str) -> ScheduleRun:
    run.outcome = ScheduleRunOutcome.SKIPPED
    run.message = message
    run.save(update_fields=["outcome", "message"])
    return run


def run(schedule: ScheduledSync, *, task_id: str) -> ScheduleRun:
    """One run: skipped, or the syncs requested (outcome pending until `verify`), or failed."""
    run, created = _start(schedule, task_id)
    if not created and (run.requested_at or run.outcome != ScheduleRunOutcome.PENDING):
        return run  # delivered again: this run already did its work
    now = timezone.now()
    if schedule.paused:
        return _skip(run, "Paused.")
    if in_window(schedule, now):
        return _skip(run, "Inside the maintenance window.")
    try:
        graph = _graph(schedule)
        names = dict(schedule.connector_names)
        if schedule.all_connectors:
            rows = exchange_connector_list(graph=graph, now=now)
            names = {row.connector.id: row.connector.display_name for row in rows}
        ids = list(names)
        if not ids:
            return _skip(run, "The tenant has no Exchange connectors to sync.")
        results = exchange_connector_bulk_sync(
            graph=graph,
            actor=watch_actor(via=schedule.via),
            connector_ids=ids,
            sync_type=schedule.sync_type,
        )
    except (GraphError, TenantRefused) as error:
        run.outcome = ScheduleRunOutcome.FAILED
        run.message = _fault_message(schedule, error)
        run.verified_at = timezone.now()
        with transaction.atomic():  # settled together with what the alerts made of it
            run.save(update_fields=["outcome", "message", "verified_at"])
            _observe(schedule, run)
        return run
    run.requested_at = results[0].requested_at
    run.results = [
        {
            "id": result.connector_id,
            "name": names.get(result.connector_id, ""),
            "request": str(result.outcome),
            "progress": str(REQUEST_PROGRESS[result.outcome]),
            "message": graph_fault_message(result.error) if result.error else "",
        }
        for result in results
    ]
    run.save(update_fields=["requested_at", "results"])
    _prune(schedule)
    return run


def verify(run: ScheduleRun) -> ScheduleRun:
    """Did each requested sync land (lastSyncDateTime later than the request)? One paged list
    of the tenant's connectors answers for all of them; then the alerts hear of it."""
    schedule = run.schedule
    if run.requested_at is None:
        return run
    try:
        listed = {
            row.connector.id: row.connector
            for row in exchange_connector_list(graph=_graph(schedule), now=timezone.now())
        }
    except (GraphError, TenantRefused) as error:
        run.message = f"Could not check the syncs: {_fault_message(schedule, error)}"
        listed = None
    for entry in run.results:
        connector = (listed or {}).get(entry["id"])
        if connector is not None:
            entry["name"] = connector.display_name
        if entry["progress"] != SyncProgress.PENDING:
            continue  # refused or unknown at the request: not landed, nothing more to read
        if connector is not None and sync_landed(connector, run.requested_at):
            entry["progress"] = SyncProgress.SYNCED
        else:
            entry["progress"] = SyncProgress.NOT_SEEN
    landed = all(entry["progress"] == SyncProgress.SYNCED for entry in run.results)
    run.outcome = ScheduleRunOutcome.LANDED if landed else ScheduleRunOutcome.NOT_LANDED
    run.verified_at = timezone.now()
    # Settled together with what the alerts made of it: whoever sees the outcome sees the alert.
    with transaction.atomic():
        run.save(update_fields=["results", "outcome", "verified_at", "message"])
        _observe(schedule, run)
    return run


def _observe(schedule: ScheduledSync, run: ScheduleRun) -> SweepResult:
    """Tell the alerts (h2's rule "scheduled sync did not land") what this run saw; the key is
    the run's, so a verification redone sends the same key and opens nothing twice."""
    missed = [
        entry["name"] or entry["id"]
        for entry in run.results
        if entry["progress"] != SyncProgress.SYNCED
    ]
    landed = run.outcome == ScheduleRunOutcome.LANDED
    result = SweepResult(
        tenant_id=schedule.tenant_id,
        sweep_key=f"scheduled-sync:{schedule.pk}:run:{run.pk}",
        observed_at=run.verified_at or timezone.now(),
        observations=[
            Observation(
                tenant_id=schedule.tenant_id,
                kind=ObjectKind.SCHEDULED_SYNC,
                object_id=str(schedule.pk),
                name=schedule.name,
                state="landed" if landed else "not_landed",
                details={
                    "run": run.pk,
                    "sync_type": schedule.sync_type,
                    "not_landed": missed,
                    "connectors": [
                        {"id": e["id"], "name": e["name"], "progress": e["progress"]}
                        for e in run.results
                    ],
                    "message": run.message,
                },
            )
        ],
        read_kinds=frozenset({ObjectKind.SCHEDULED_SYNC}),
    )
    sweep_observed.send(sender=ScheduledSync, result=result)
    return result


def _prune(schedule: ScheduledSync) -> None:
    """Keep the newest WATCH_SCHEDULE_RUNS_KEPT runs of each schedule."""
    keep = schedule.runs.values_list("pk", flat=True)[: settings.WATCH_SCHEDULE_RUNS_KEPT]
    schedule.runs.exclude(pk__in=list(keep)).delete()

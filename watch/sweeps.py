"""Sweeps: every watched tenant read on a schedule, spread over the interval, each sweep once.

    dispatch(now)                      # beat, every WATCH_SWEEP_DISPATCH_SECONDS: send the
                                       # sweeps due before the next dispatch, each at its time
    sweep(tenant_id, sweep_key, ...)   # the task: read the tenant (one read, tenants.services),
                                       # store its snapshot, send `sweep_observed`

Spread: a tenant's sweeps fall at `offset + n × interval`, its offset a stable hash of its id
within the interval (to the millisecond), so a thousand tenants on a 300 s interval start about
three a second, not all at once, and each at the same phase every time.

Once: a sweep is keyed by tenant and slot (`sweep_key`); its `Sweep` row is created when the
dispatcher sends it, so a dispatcher running late or twice (its window reaches one period back)
sends nothing twice. The task does nothing for a sweep already done; a sweep left unfinished by a
killed worker (acks_late: the broker hands the message to another) is done again under the same
key, and receivers of `sweep_observed` dedupe on it.

Within budget: every Graph request of a sweep is taken from the tenant's and the app's throttling
budgets first (`watch.budget`); a sweep that does not fit is deferred, not sent over.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from graph.client import GraphClient
from graph.errors import GraphAuthError, GraphError
from kernel import identity
from kernel.locks import LockTimeout, object_lock
from tenants.health import TenantRead
from tenants.models import AccessState, ManagedTenant
from tenants.services import RefreshOutcome, tenant_read, tenant_snapshot_store
from watch import credentials
from watch.budget import BudgetExceeded, SweepBudget
from watch.models import CredentialStatus, Sweep, SweepStatus, SweepTrigger, WatchedTenant
from watch.observations import ObjectKind, Observation, SweepResult, sweep_observed

logger = logging.getLogger(__name__)

GROUP_STATES = {0: "down", 1: "at_risk"}  # 2+ active: "ok"
# A sweep under way elsewhere is looked at again this much later (done by then: nothing to do;
# its worker dead: its lock's lease runs out and this one sweeps).
BUSY_RETRY_SECONDS = 30.0


class SweepBusy(Exception):
    """Another worker holds the sweep's lock: try again later, not now, and not never."""

    def __init__(self, sweep_key: str) -> None:
        super().__init__(f"Sweep {sweep_key} is under way on another worker.")
        self.retry_after = BUSY_RETRY_SECONDS


# -- when ------------------------------------------------------------------------------------


def offset_seconds(tenant_id: str, interval: int) -> float:
    """The tenant's phase within the interval: stable across processes and restarts."""
    digest = int.from_bytes(hashlib.sha256(tenant_id.encode()).digest()[:8], "big")
    return (digest % (interval * 1000)) / 1000


def next_due(tenant_id: str, interval: int, *, at_or_after: datetime) -> datetime:
    """The tenant's first slot start at or after the given time."""
    offset = offset_seconds(tenant_id, interval)
    n = math.ceil((at_or_after.timestamp() - offset) / interval)
    return datetime.fromtimestamp(n * interval + offset, tz=at_or_after.tzinfo or timezone.utc)


def slot_key(tenant_id: str, due: datetime) -> str:
    return f"{tenant_id}@{due.isoformat(timespec='milliseconds')}"


def run_now_key(tenant_id: str, task_id: str) -> str:
    """A sweep asked for now has a slot of its own, named by its task (the same on redelivery)."""
    return f"{tenant_id}@now:{task_id}"


# -- which -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Watched:
    tenant: ManagedTenant
    interval: int


def watched_tenants() -> list[Watched]:
    """Every tenant that is ready (or not checked yet) unless its setting leaves it out, and any
    tenant its setting keeps in."""
    default = settings.WATCH_SWEEP_INTERVAL_SECONDS
    tenants = (
        ManagedTenant.objects.filter(
            Q(access__in=[AccessState.READY, AccessState.UNCHECKED])
            | Q(watch_setting__enabled=True)
        )
        .exclude(watch_setting__enabled=False)
        .select_related("watch_setting")
        .order_by("tenant_id")
    )
    watched = []
    for tenant in tenants:
        setting = getattr(tenant, "watch_setting", None)
        interval = (setting.interval_seconds if setting else None) or default
        watched.append(Watched(tenant, max(1, interval)))
    return watched


def watch_is_on() -> bool:
    """Sweeps go out while the watch has credentials, even ones that need sign-in (then each
    sweep observes that, for the alert, without calling Graph)."""
    credential = credentials.current_credential()
    return credential is not None and credential.status != CredentialStatus.REVOKED


# -- dispatch --------------------------------------------------------------------------------

Send = Callable[..., object]  # Celery's apply_async of the sweep task


@dataclass(frozen=True)
class Planned:
    tenant: ManagedTenant
    due: datetime
    key: str


def plan(watched: Sequence[Watched], *, start: datetime, end: datetime) -> list[Planned]:
    """Every slot of every watched tenant in [start, end)."""
    planned = []
    for item in watched:
        due = next_due(item.tenant.tenant_id, item.interval, at_or_after=start)
        while due < end:
            planned.append(Planned(item.tenant, due, slot_key(item.tenant.tenant_id, due)))
            due += timedelta(seconds=item.interval)
    return planned


def dispatch(*, now: datetime, send: Send) -> dict[str, int]:
    """Send each sweep due before the next dispatch, with a countdown to its slot; a slot whose
    row exists was sent already (by this or a dispatch that overlapped it)."""
    if not watch_is_on():
        return {"sent": 0, "watched": 0}
    period = timedelta(seconds=settings.WATCH_SWEEP_DISPATCH_SECONDS)
    watched = watched_tenants()
    start, end = now - period, now + period
    planned = plan(watched, start=start, end=end)
    known = set(
        Sweep.objects.filter(
            trigger=SweepTrigger.SCHEDULE, due_at__gte=start, due_at__lt=end
        ).values_list("sweep_key", flat=True)
    )
    fresh = [p for p in planned if p.key not in known]
    Sweep.objects.bulk_create(
        [
            Sweep(
                tenant=p.tenant,
                sweep_key=p.key,
                trigger=SweepTrigger.SCHEDULE,
                due_at=p.due,
                status=SweepStatus.SCHEDULED,
            )
            for p in fresh
        ],
        ignore_conflicts=True,
    )
    for index, p in enumerate(fresh):
        try:
            send(
                args=[p.tenant.tenant_id],
                kwargs={"sweep_key": p.key, "due": p.due.isoformat()},
                countdown=max(0.0, (p.due - now).total_seconds()),
            )
        except Exception:
            # Not sent: forget these slots so the next dispatch sends them.
            Sweep.objects.filter(sweep_key__in=[q.key for q in fresh[index:]]).delete()
            raise
    return {"sent": len(fresh), "watched": len(watched)}


def send_now(
    tenants: Sequence[ManagedTenant], *, send: Send, spread_seconds: float = 0.0
) -> list[str]:
    """Sweep these tenants now (`watch_run sweep`, the watch page's button), spread over
    `spread_seconds` in the tenants' own order of phase; their task ids."""
    task_ids = []
    count = len(tenants)
    ordered = sorted(tenants, key=lambda t: offset_seconds(t.tenant_id, 3600))
    for index, tenant in enumerate(ordered):
        countdown = spread_seconds * index / count if count > 1 else 0.0
        sent = send(args=[tenant.tenant_id], countdown=countdown)
        task_ids.append(str(getattr(sent, "id", "")))
    return task_ids


# -- one sweep -------------------------------------------------------------------------------


def sweep(
    *,
    tenant_id: str,
    sweep_key: str,
    due: datetime,
    trigger: str,
    task_id: str,
    worker: str,
) -> dict[str, object]:
    """One tenant's sweep, once per key (see the module's docstring). BudgetExceeded or
    SweepBusy when it must be tried again later."""
    tenant = ManagedTenant.objects.filter(tenant_id=tenant_id).first()
    if tenant is None:
        return {"skipped": f"{tenant_id} is not a managed tenant (any more)."}
    row, _ = Sweep.objects.get_or_create(
        sweep_key=sweep_key,
        defaults={
            "tenant": tenant,
            "trigger": trigger,
            "due_at": due,
            "status": SweepStatus.SCHEDULED,
        },
    )
    if row.status == SweepStatus.DONE:
        return {"skipped": f"Sweep {sweep_key} was done already.", "sweep_key": sweep_key}
    try:
        with object_lock(
            f"watch.sweep:{sweep_key}",
            wait_seconds=0,
            hold_seconds=settings.WATCH_TASK_TIME_LIMIT_SECONDS,
        ):
            return _sweep_once(tenant, row, task_id=task_id, worker=worker)
    except LockTimeout as exc:
        raise SweepBusy(sweep_key) from exc


def _sweep_once(tenant: ManagedTenant, row: Sweep, *, task_id: str, worker: str) -> dict:
    row.refresh_from_db()
    if row.status == SweepStatus.DONE:  # finished while this one waited for the lock
        return {"skipped": f"Sweep {row.sweep_key} was done already.", "sweep_key": row.sweep_key}
    started = timezone.now()
    Sweep.objects.filter(pk=row.pk).update(
        status=SweepStatus.RUNNING,
        attempts=F("attempts") + 1,
        started_at=started,
        task_id=task_id,
        worker=worker,
        error="",
    )
    budget = SweepBudget(tenant.tenant_id)
    try:
        result = observe(tenant, row.sweep_key, budget=budget, now=started)
        # Receivers (history, alerts, drift) run here, after the snapshot is stored; the row is
        # marked done only after them, so a worker dying in between redoes the sweep and they
        # see the key again. One that fails fails the sweep (its row says why).
        sweep_observed.send(sender=Sweep, result=result)
    except BudgetExceeded as exc:
        _finish(row, budget, status=SweepStatus.DEFERRED, error=str(exc))
        raise
    except BaseException as exc:
        _finish(row, budget, status=SweepStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    reachable = _tenant_state(result)
    _finish(
        row,
        budget,
        status=SweepStatus.DONE,
        error=result.error,
        observations=len(result.observations),
        reachable=None if reachable is None else reachable == "reachable",
        complete=result.complete,
    )
    return {
        "sweep_key": row.sweep_key,
        "tenant": tenant.tenant_id,
        "observations": len(result.observations),
        "complete": result.complete,
        "graph_calls": budget.calls,
        "graph_requests": budget.requests,
        **({"error": result.error} if result.error else {}),
    }


def _tenant_state(result: SweepResult) -> str | None:
    for observation in result.observations:
        if observation.kind == ObjectKind.TENANT:
            return observation.state
    return None


def _finish(row: Sweep, budget: SweepBudget, *, status: str, error: str, **values: object) -> None:
    Sweep.objects.filter(pk=row.pk).update(
        status=status,
        finished_at=timezone.now(),
        graph_calls=F("graph_calls") + budget.calls,
        graph_requests=F("graph_requests") + budget.requests,
        error=error,
        **values,
    )


# -- what a sweep sees -----------------------------------------------------------------------


def observe(
    tenant: ManagedTenant, sweep_key: str, *, budget: SweepBudget, now: datetime
) -> SweepResult:
    """Read the tenant as the watch, store its snapshot, and say what was seen."""
    tenant_id = tenant.tenant_id
    home = tenant_id == settings.ENTRA_TENANT_ID
    seen = Seen(tenant_id, sweep_key, now)

    def graph_for_tenant(_tenant_id: str, scopes: Sequence[str] | None) -> GraphClient:
        return credentials.graph_for_watch(
            via=f"sweep {sweep_key}",
            tenant=None if home else tenant_id,
            scopes=scopes,
            meter=budget,
        )

    try:
        read = tenant_read(tenant_id, graph_for_tenant, now)
    except identity.TenantRefused as exc:
        error = exc.detail or exc.reason
        outcome = RefreshOutcome(tenant_id, None, error, refused=exc)
        # The tenant refused the admin: the credentials themselves worked.
        return _unreachable(tenant, outcome, seen, also=_credential_active())
    except GraphAuthError as exc:
        if (lost := _credential_lost()) is not None:
            # The watch's own sign-in, not the tenant: no snapshot (a person's stays as it is).
            return seen.result([lost], complete=False, error=str(exc))
        return _unreachable(tenant, RefreshOutcome(tenant_id, None, str(exc)), seen)
    except GraphError as exc:
        return _unreachable(tenant, RefreshOutcome(tenant_id, None, str(exc)), seen)
    tenant_snapshot_store(tenant=tenant, outcome=RefreshOutcome(tenant_id, read), now=now)
    observations = [
        _tenant(tenant, "reachable", ""),
        *_credential_active(),
        *objects_of(tenant_id, read),
    ]
    kinds = {ObjectKind.EXCHANGE_CONNECTOR}
    if read.app_proxy_read:
        kinds |= {ObjectKind.APP_PROXY_CONNECTOR, ObjectKind.CONNECTOR_GROUP}
    return seen.result(observations, kinds=kinds, complete=read.app_proxy_read, error=read.error)


@dataclass(frozen=True)
class Seen:
    """The sweep a result belongs to."""

    tenant_id: str
    sweep_key: str
    observed_at: datetime

    def result(
        self,
        observations: list[Observation],
        *,
        kinds: set[str] | None = None,
        complete: bool = True,
        error: str = "",
    ) -> SweepResult:
        """The kinds read in full: those given, and those observed (tenant, credentials)."""
        read_kinds = {observation.kind for observation in observations} | (kinds or set())
        return SweepResult(
            tenant_id=self.tenant_id,
            sweep_key=self.sweep_key,
            observed_at=self.observed_at,
            observations=observations,
            complete=complete,
            read_kinds=frozenset(read_kinds),
            error=error,
        )


def _unreachable(
    tenant: ManagedTenant,
    outcome: RefreshOutcome,
    seen: Seen,
    also: Sequence[Observation] = (),
) -> SweepResult:
    tenant_snapshot_store(tenant=tenant, outcome=outcome, now=seen.observed_at)
    _keep_watching(tenant)
    observations = [_tenant(tenant, "unreachable", outcome.error), *also]
    return seen.result(observations, complete=False, error=outcome.error)


def _keep_watching(tenant: ManagedTenant) -> None:
    """A tenant unreachable while watched stays watched (its snapshot now says it is not ready):
    its outage keeps being observed, and its recovery seen. An Admin may leave it out."""
    WatchedTenant.objects.get_or_create(tenant=tenant)


def _tenant(tenant: ManagedTenant, state: str, error: str) -> Observation:
    details = {"error": error} if error else {}
    return Observation(
        tenant.tenant_id, ObjectKind.TENANT, tenant.tenant_id, tenant.label, state, details
    )


def _credential_observation(state: str) -> Observation | None:
    credential = credentials.current_credential()
    if credential is None:
        return None
    details = {"reason": credential.status_reason} if credential.status_reason else {}
    # The credentials belong to the home tenant, whichever tenant's sweep saw them.
    return Observation(
        credential.tenant_id,
        ObjectKind.CREDENTIAL,
        credential.oid,
        credential.upn,
        state,
        details,
    )


def _credential_active() -> list[Observation]:
    observation = _credential_observation("active")
    return [observation] if observation else []


def _credential_lost() -> Observation | None:
    credential = credentials.current_credential()
    if credential is None or credential.status == CredentialStatus.ACTIVE:
        return None
    return _credential_observation("needs_sign_in")


def objects_of(tenant_id: str, read: TenantRead) -> list[Observation]:
    """One observation per connector and group (states as watch.observations documents)."""
    observations = [
        Observation(
            tenant_id,
            ObjectKind.EXCHANGE_CONNECTOR,
            item.id,
            item.name or item.id,
            item.health.value,
            {
                "status": item.status,
                "last_sync": item.last_sync.isoformat() if item.last_sync else None,
                "settings": item.settings,
            },
        )
        for item in read.exchange
    ]
    observations += [
        Observation(
            tenant_id,
            ObjectKind.APP_PROXY_CONNECTOR,
            item.id,
            item.machine_name or item.id,
            "active" if item.active else "inactive",
            {"status": item.status},
        )
        for item in read.app_proxy_connectors or ()
    ]
    observations += [
        Observation(
            tenant_id,
            ObjectKind.CONNECTOR_GROUP,
            group.id,
            group.name or group.id,
            GROUP_STATES.get(group.active, "ok"),
            {"active": group.active, "members": list(group.member_ids), "region": group.region},
        )
        for group in read.groups or ()
    ]
    return observations

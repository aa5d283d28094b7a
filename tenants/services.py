"""Writes of the managed tenants: discovery from GDAP, adding by hand, access checks, and the
health refresh that fans out across tenants (bounded concurrency, each tenant on its own)."""

from __future__ import annotations

import contextlib
import logging
import queue
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from graph.batch import BatchRequest
from graph.client import GraphClient
from graph.datetimes import parse_graph_datetime
from graph.deadline import Deadline, current_deadline, graph_deadline
from graph.errors import GraphAuthError, GraphError
from kernel import identity
from tenants.errors import TenantNotFound
from tenants.health import TenantHealth, tenant_health_read
from tenants.models import AccessState, ManagedTenant, TenantSnapshot, TenantSource
from tenants.selectors import GRANTING

logger = logging.getLogger(__name__)

RELATIONSHIPS = "/tenantRelationships/delegatedAdminRelationships"
FIND_TENANT = "/tenantRelationships/findTenantInformationByTenantId"

# A tenant's Graph client with these scopes (None: the sign-in's).
GraphForTenant = Callable[[str, Sequence[str] | None], GraphClient]


def home_tenant_ensure(*, tenant_id: str) -> ManagedTenant:
    tenant, _ = ManagedTenant.objects.get_or_create(
        tenant_id=tenant_id.lower(),
        defaults={"source": TenantSource.HOME, "display_name": "Home tenant"},
    )
    return tenant


def _better(candidate: dict, current: dict | None) -> bool:
    """A granting relationship beats an ended one; among equals, the one that ends later."""
    if current is None:
        return True

    def rank(item: dict) -> tuple[bool, str]:
        return (item.get("status") in GRANTING, item.get("endDateTime") or "")

    return rank(candidate) > rank(current)


def tenants_discover(*, graph: GraphClient, home_tenant_id: str) -> int:
    """Managed tenants from the partner's GDAP relationships (Graph v1.0, every page); returns
    how many customers were found. Tenants added by hand stay as they are."""
    home_tenant_ensure(tenant_id=home_tenant_id)
    best: dict[str, dict] = {}
    for item in graph.iter_items(RELATIONSHIPS):
        customer = (item.get("customer") or {}).get("tenantId", "").lower()
        if customer and _better(item, best.get(customer)):
            best[customer] = item
    domains = _default_domains(graph, list(best))
    with transaction.atomic():
        for tenant_id, item in best.items():
            roles = [
                role.get("roleDefinitionId", "")
                for role in (item.get("accessDetails") or {}).get("unifiedRoles") or []
            ]
            ManagedTenant.objects.update_or_create(
                tenant_id=tenant_id,
                defaults={
                    "display_name": (item.get("customer") or {}).get("displayName", ""),
                    "default_domain": domains.get(tenant_id, ""),
                    "source": TenantSource.GDAP,
                    "relationship_id": item.get("id", ""),
                    "relationship_status": item.get("status", ""),
                    "relationship_end": parse_graph_datetime(item.get("endDateTime")),
                    "role_ids": roles,
                },
            )
    return len(best)


def _default_domains(graph: GraphClient, tenant_ids: list[str]) -> dict[str, str]:
    """Each customer's default domain (GDAP names the customer, not its domains), so the
    switcher finds it by domain: `findTenantInformationByTenantId`, 20 per `$batch`."""
    answers = graph.batch(
        BatchRequest(f"t{index}", "GET", f"{FIND_TENANT}(tenantId='{quote(tenant_id)}')")
        for index, tenant_id in enumerate(tenant_ids)
    )
    domains = {}
    for index, tenant_id in enumerate(tenant_ids):
        answer = answers[f"t{index}"]
        if answer.ok and isinstance(answer.body, dict):
            domains[tenant_id] = str(answer.body.get("defaultDomainName") or "").lower()
    return domains


def tenant_add(*, value: str) -> ManagedTenant:
    """A tenant reached as a guest, by its id or one of its domains (resolved at its
    authority's discovery document, as Entra publishes it)."""
    value = value.strip().lower()
    try:
        tenant_id = str(uuid.UUID(value))
        domain = ""
    except ValueError:
        domain = value
        found = identity.tenant_id_for_domain(value)
        if found is None:
            raise TenantNotFound(f"No Entra tenant answers for the domain {value}.") from None
        tenant_id = found
    tenant, created = ManagedTenant.objects.get_or_create(
        tenant_id=tenant_id,
        defaults={"source": TenantSource.MANUAL, "default_domain": domain},
    )
    if not created and domain and not tenant.default_domain:
        tenant.default_domain = domain
        tenant.save(update_fields=["default_domain"])
    return tenant


def _access_state(refused: identity.TenantRefused | None) -> str:
    if refused is None:
        return AccessState.READY
    if refused.reason == identity.TenantRefused.CONSENT_REQUIRED:
        return AccessState.CONSENT_NEEDED
    return AccessState.NO_ACCESS


def tenant_access_record(
    *, tenant: ManagedTenant, refused: identity.TenantRefused | None, now: datetime
) -> None:
    tenant.access = _access_state(refused)
    tenant.access_detail = refused.detail if refused else ""
    tenant.access_checked_at = now
    tenant.save(update_fields=["access", "access_detail", "access_checked_at"])


def tenant_access_check(*, tenant: ManagedTenant, graph: GraphClient) -> None:
    """Ask the tenant's token endpoint for the user's token: ready, consent needed, no access."""
    identity.forget_tenant_refusals(tenant.tenant_id)
    refused = None
    try:
        graph.token_provider(graph.scopes)
    except identity.TenantRefused as exc:
        refused = exc
    tenant_access_record(tenant=tenant, refused=refused, now=timezone.now())


@dataclass(frozen=True)
class RefreshOutcome:
    tenant_id: str
    health: TenantHealth | None
    error: str = ""
    refused: identity.TenantRefused | None = None


def _read_one(tenant_id: str, graph_for_tenant: GraphForTenant, now: datetime) -> RefreshOutcome:
    """One tenant's health, failing on its own: a refusal or a Graph fault is its row's error."""
    try:
        return RefreshOutcome(tenant_id, _health(tenant_id, graph_for_tenant, now))
    except identity.TenantRefused as exc:
        return RefreshOutcome(tenant_id, None, exc.detail or exc.reason, refused=exc)
    except (GraphError, identity.TokenUnavailable) as exc:
        return RefreshOutcome(tenant_id, None, str(exc))
    except Exception as exc:  # noqa: BLE001 - one tenant's bug must not fail every tenant
        logger.exception("Refreshing tenant %s failed", tenant_id)
        return RefreshOutcome(tenant_id, None, f"Unexpected error: {exc}")


def _health(tenant_id: str, graph_for_tenant: GraphForTenant, now: datetime) -> TenantHealth:
    scopes = [*settings.GRAPH_SCOPES, *settings.APP_PROXY_GRAPH_SCOPES]
    try:
        return tenant_health_read(graph=graph_for_tenant(tenant_id, scopes), now=now)
    except GraphAuthError:
        # App Proxy's permission not consented yet (the home tenant's incremental consent).
        graph = graph_for_tenant(tenant_id, None)
        return tenant_health_read(graph=graph, now=now, app_proxy=False)


def _worker(
    pending: queue.SimpleQueue[ManagedTenant],
    done: queue.SimpleQueue[RefreshOutcome],
    graph_for_tenant: GraphForTenant,
    now: datetime,
    deadline: Deadline | None,
) -> None:
    """One worker thread: read tenants until none is left, each failing on its own, under the
    request's Graph deadline; its database connections are closed once, when it is done (not
    after every tenant: a connection per tenant cost more than the bookkeeping it saved)."""
    within = graph_deadline(deadline.remaining()) if deadline else contextlib.nullcontext()
    try:
        with within:
            while True:
                try:
                    tenant = pending.get_nowait()
                except queue.Empty:
                    return
                try:
                    done.put(_read_one(tenant.tenant_id, graph_for_tenant, now))
                except BaseException as exc:  # noqa: BLE001 - the caller waits for every tenant
                    done.put(RefreshOutcome(tenant.tenant_id, None, f"Unexpected error: {exc}"))
                    raise
    finally:
        connections.close_all()  # the worker thread's own connections


def refresh_concurrency() -> int:
    return max(1, int(getattr(settings, "TENANT_REFRESH_CONCURRENCY", 8)))


def refresh_chunk_size() -> int:
    """Tenants per step of the page's progressive refresh (each step is one request, within the
    request's Graph deadline)."""
    return max(1, int(getattr(settings, "TENANT_REFRESH_CHUNK", 16)))


def tenants_refresh(
    *,
    tenants: Iterable[ManagedTenant],
    graph_for_tenant: GraphForTenant,
    concurrency: int | None = None,
) -> list[RefreshOutcome]:
    """Read every tenant's health, at most `concurrency` at once, and store each snapshot as
    soon as it is read (in this thread, while the workers wait on Graph for the others)."""
    tenants = list(tenants)
    now = timezone.now()
    by_id = {tenant.tenant_id: tenant for tenant in tenants}
    workers = min(concurrency or refresh_concurrency(), len(tenants)) or 1
    outcomes: dict[str, RefreshOutcome] = {}
    if workers == 1:
        for tenant in tenants:
            outcomes[tenant.tenant_id] = _read_one(tenant.tenant_id, graph_for_tenant, now)
            _store(tenant, outcomes[tenant.tenant_id], now)
        return list(outcomes.values())
    pending: queue.SimpleQueue[ManagedTenant] = queue.SimpleQueue()
    for tenant in tenants:
        pending.put(tenant)
    done: queue.SimpleQueue[RefreshOutcome] = queue.SimpleQueue()
    # The request's Graph deadline holds in the workers too, so the whole refresh ends within it
    # (a tenant not read by then fails on its own, with the timeout).
    deadline = current_deadline()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tenant-refresh") as pool:
        for _ in range(workers):
            pool.submit(_worker, pending, done, graph_for_tenant, now, deadline)
        for _ in tenants:
            outcome = done.get()
            outcomes[outcome.tenant_id] = outcome
            _store(by_id[outcome.tenant_id], outcome, now)
    return [outcomes[tenant.tenant_id] for tenant in tenants]


def _store(tenant: ManagedTenant, outcome: RefreshOutcome, now: datetime) -> None:
    if outcome.health is not None or outcome.refused is not None:
        tenant_access_record(tenant=tenant, refused=outcome.refused, now=now)
    values: dict = {"taken_at": now, "ok": outcome.health is not None, "error": outcome.error}
    if outcome.health is not None:
        values.update(vars(outcome.health))  # its `error`: a part it could not read
    TenantSnapshot.objects.update_or_create(tenant=tenant, defaults=values)

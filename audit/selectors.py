"""Reading the audit log: actions (attempt joined with its outcome), one entry, the chain check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf

from audit import chain
from audit.models import AuditEntry, Outcome, Phase

# Sort keys the viewer offers (`?sort=`, `-` for descending) and the columns behind them.
SORTS: dict[str, tuple[str, ...]] = {
    "time": ("created_at", "id"),
    "actor": ("actor_upn", "id"),
    "action": ("action", "id"),
    "target": ("target_type", "target_name", "target_id", "id"),
    "outcome": ("shown_outcome", "id"),
}
DEFAULT_SORT = "-time"


@dataclass(frozen=True)
class AuditFilters:
    """What the viewer narrows the log to; every field optional."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    outcome: str = ""
    q: str = ""
    sort: str = DEFAULT_SORT


def audit_action_list(*, filters: AuditFilters | None = None) -> QuerySet[AuditEntry]:
    """One row per action: its first entry with the outcome row joined (`outcome_entry`).

    An action is an attempt, or an outcome recorded without an attempt. `shown_outcome` is the
    outcome row's outcome, or "unknown" when the attempt has none (e.g. a crash after it).
    """
    filters = filters or AuditFilters()
    orphan_outcome = Q(phase=Phase.OUTCOME, attempt__isnull=True) & ~Exists(
        AuditEntry.objects.filter(phase=Phase.ATTEMPT, correlation_id=OuterRef("correlation_id"))
    )
    rows = (
        AuditEntry.objects.filter(Q(phase=Phase.ATTEMPT) | orphan_outcome)
        .select_related("outcome_entry")
        .annotate(
            shown_outcome=Coalesce(
                F("outcome_entry__outcome"),
                # An outcome row standing alone carries its own; attempt rows hold "".
                NullIf(F("outcome"), Value("")),
                Value(Outcome.UNKNOWN.value),
            )
        )
    )
    if filters.date_from:
        rows = rows.filter(created_at__date__gte=filters.date_from)
    if filters.date_to:
        rows = rows.filter(created_at__date__lte=filters.date_to)
    if filters.actor:
        rows = rows.filter(
            Q(actor_upn__iexact=filters.actor)
            | Q(actor_oid__iexact=filters.actor)
            | Q(actor_name__iexact=filters.actor)
        )
    if filters.action:
        rows = rows.filter(action=filters.action)
    if filters.target_type:
        rows = rows.filter(target_type=filters.target_type)
    if filters.target_id:
        # A create's attempt has no id yet; its outcome carries the id Graph assigned.
        rows = rows.filter(
            Q(target_id=filters.target_id) | Q(outcome_entry__target_id=filters.target_id)
        )
    if filters.outcome:
        rows = rows.filter(shown_outcome=filters.outcome)
    if filters.q:
        rows = rows.filter(_text_search(filters.q))
    return rows.order_by(*_ordering(filters.sort))


def _text_search(text: str) -> Q:
    words = text.split()
    query = Q()
    for word in words:
        query &= (
            Q(actor_upn__icontains=word)
            | Q(actor_name__icontains=word)
            | Q(action__icontains=word)
            | Q(target_type__icontains=word)
            | Q(target_id__icontains=word)
            | Q(target_name__icontains=word)
            | Q(reason__icontains=word)
            | Q(correlation_id__icontains=word)
            | Q(outcome_entry__graph_request_id__icontains=word)
            | Q(outcome_entry__graph_code__icontains=word)
            | Q(outcome_entry__error_message__icontains=word)
        )
    return query


def _ordering(sort: str) -> list[Any]:
    descending = sort.startswith("-")
    columns = SORTS.get(sort.lstrip("-"), SORTS["time"])
    return [F(column).desc() if descending else F(column).asc() for column in columns]


def audit_entry_get(*, entry_id: int) -> AuditEntry | None:
    """An entry with its counterpart: an attempt with its outcome, an outcome with its attempt."""
    return AuditEntry.objects.select_related("attempt", "outcome_entry").filter(pk=entry_id).first()


def audit_distinct_values(*, field: str) -> list[str]:
    """The values a filter's suggestions offer (actors, actions, target types seen so far)."""
    if field not in {"actor_upn", "action", "target_type"}:
        raise ValueError(f"No suggestions for {field!r}.")
    return list(AuditEntry.objects.order_by(field).values_list(field, flat=True).distinct())


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the chain: how many entries, and the first one that breaks it."""

    count: int
    broken_entry_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_entry_id is None


def audit_chain_verify(*, chunk_size: int = 2000) -> ChainReport:
    """Walk every entry in id order, recomputing each hash and checking each link."""
    expected_prev = chain.GENESIS_HASH
    count = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=chunk_size):
        count += 1
        if entry.prev_hash != expected_prev:
            return ChainReport(
                count=count,
                broken_entry_id=entry.pk,
                problem=(
                    "its prev_hash does not match the hash of the entry before it "
                    "(an entry was removed, inserted or reordered)"
                ),
            )
        if chain.entry_hash(entry) != entry.hash:
            return ChainReport(
                count=count,
                broken_entry_id=entry.pk,
                problem="its content does not match its hash (the entry was changed)",
            )
        expected_prev = entry.hash
    return ChainReport(count=count)

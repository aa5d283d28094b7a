"""Drift, the pure part: which settings are compared, an object's values as a sweep or a Graph
read sees them, and the comparison with the baseline an Admin recorded.

    record a baseline (watch.drift_baselines)  -> DriftBaseline + BaselineItem rows
    sweep_observed(result)  -> watch.drift_receiver: `snapshot_of(result)` merged into the
        tenant's DriftSnapshot, `compare(baseline, snapshot)`, attribution
        (watch.drift_attribution), then a SweepResult of DRIFT observations through
        sweep_observed again, so the alerts open one drift incident per changed object.

Compared per kind (GRAPH.md): an Exchange connector's identifying and writable settings (not
`status` or `lastSyncDateTime`: those are its health, which the alerts watch); an App Proxy
connector's group (membership: which connector in which group); a group's name and region.
A snapshot is JSON-safe: {kind: {object id: {"name": …, "values": {field: text}}}}.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.records import AppProxyConnector, ConnectorGroup, ExchangeConnector
from connectors.records import same_graph_value as same_value
from tenants.health import EXCHANGE_SETTINGS
from watch.observations import ObjectKind, Observation, SweepResult

MEMBERSHIP = "connectorGroup"
# The pseudo-field of an object that appeared or disappeared since the baseline.
PRESENCE = "presence"
PRESENT, ABSENT = "present", "absent"

COMPARED_FIELDS: dict[str, tuple[str, ...]] = {
    ObjectKind.EXCHANGE_CONNECTOR: EXCHANGE_SETTINGS,
    ObjectKind.APP_PROXY_CONNECTOR: (MEMBERSHIP,),
    ObjectKind.CONNECTOR_GROUP: ("name", "region"),
}
COMPARED_KINDS = frozenset(COMPARED_FIELDS)
FIELD_LABELS = {
    "serverName": "Server name",
    "connectorServerName": "Connector server",
    "exchangeConnectorType": "Type",
    "primarySmtpAddress": "Primary SMTP address",
    "exchangeAlias": "Exchange alias",
    "exchangeOrganization": "Exchange organization",
    "version": "Version",
    MEMBERSHIP: "Connector group",
    "name": "Name",
    "region": "Region",
    PRESENCE: "Object",
}

Snapshot = dict[str, dict[str, dict[str, Any]]]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def seen(name: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """One object in a snapshot."""
    return {"name": name, "values": {key: _text(value) for key, value in values.items()}}


def kinds_read(result: SweepResult) -> frozenset[str]:
    """The compared kinds this sweep read in full (a complete sweep without read_kinds read
    every kind): only those are compared; the others keep what an earlier sweep saw."""
    if result.read_kinds:
        return COMPARED_KINDS & result.read_kinds
    return COMPARED_KINDS if result.complete else frozenset()


def _member_ids(details: Mapping[str, Any]) -> list[str]:
    members = details.get("members") or details.get("member_ids") or []
    ids = [m.get("id", "") if isinstance(m, dict) else m for m in members]
    return [str(i) for i in ids if i]


def _group_of(details: Mapping[str, Any]) -> str | None:
    """A connector observation's own group id, when the sweep put one in its details."""
    group = details.get("group")
    if isinstance(group, dict):
        return _text(group.get("id"))
    for key in ("group_id", MEMBERSHIP):
        if key in details:
            return _text(details[key])
    return None


def _exchange_values(details: Mapping[str, Any]) -> dict[str, Any]:
    settings = details.get("settings")
    source = settings if isinstance(settings, dict) else details
    return {
        name: source[name]
        for name in COMPARED_FIELDS[ObjectKind.EXCHANGE_CONNECTOR]
        if name in source
    }


def snapshot_of(result: SweepResult) -> tuple[frozenset[str], Snapshot]:
    """What a sweep saw of the compared kinds, and which kinds it saw in full.

    Membership comes from the groups' member lists (or a connector's own group, when its
    details carry one); without either, the connectors' kind counts as not read.
    """
    read = set(kinds_read(result))
    by_kind: dict[str, list[Observation]] = {}
    for observation in result.observations:
        by_kind.setdefault(observation.kind, []).append(observation)
    snapshot: Snapshot = {}
    if ObjectKind.EXCHANGE_CONNECTOR in read:
        snapshot[ObjectKind.EXCHANGE_CONNECTOR] = {
            o.object_id: seen(o.name, _exchange_values(o.details))
            for o in by_kind.get(ObjectKind.EXCHANGE_CONNECTOR, [])
        }
    group_of: dict[str, str] = {}
    names: dict[str, str] = {}
    if ObjectKind.CONNECTOR_GROUP in read:
        groups = by_kind.get(ObjectKind.CONNECTOR_GROUP, [])
        snapshot[ObjectKind.CONNECTOR_GROUP] = {
            o.object_id: seen(
                o.name, {"name": o.details.get("name", o.name), "region": o.details.get("region")}
            )
            for o in groups
        }
        for o in groups:
            group_of.update(dict.fromkeys(_member_ids(o.details), o.object_id))
    if ObjectKind.APP_PROXY_CONNECTOR in read:
        connectors = by_kind.get(ObjectKind.APP_PROXY_CONNECTOR, [])
        names = {o.object_id: o.name for o in connectors}
        own = {o.object_id: _group_of(o.details) for o in connectors}
        if ObjectKind.CONNECTOR_GROUP in read or all(g is not None for g in own.values()):
            snapshot[ObjectKind.APP_PROXY_CONNECTOR] = {
                cid: seen(names[cid], {MEMBERSHIP: group_of.get(cid, own[cid] or "")})
                for cid in names
            }
        else:
            read.discard(ObjectKind.APP_PROXY_CONNECTOR)
    return frozenset(read), snapshot


def snapshot_from_graph(
    *,
    exchange: Iterable[ExchangeConnector] | None,
    groups: Iterable[tuple[ConnectorGroup, Iterable[AppProxyConnector]]] | None,
    connectors: Iterable[tuple[AppProxyConnector, ConnectorGroup | None]] | None,
) -> Snapshot:
    """The same snapshot from a fresh Graph read (a kind given as None was not read)."""
    snapshot: Snapshot = {}
    if exchange is not None:
        snapshot[ObjectKind.EXCHANGE_CONNECTOR] = {
            c.id: seen(c.display_name, _exchange_values(c.graph_values())) for c in exchange
        }
    if groups is not None:
        snapshot[ObjectKind.CONNECTOR_GROUP] = {
            g.id: seen(g.display_name, {"name": g.name, "region": g.region}) for g, _ in groups
        }
    if connectors is not None:
        snapshot[ObjectKind.APP_PROXY_CONNECTOR] = {
            c.id: seen(c.display_name, {MEMBERSHIP: group.id if group else ""})
            for c, group in connectors
        }
    return snapshot


def merged(earlier: Snapshot, later: Snapshot) -> Snapshot:
    """`later`'s kinds replace `earlier`'s; kinds `later` did not read keep what was seen."""
    return {**earlier, **later}


@dataclass(frozen=True)
class Difference:
    """One object that differs from its baseline: each changed field, before -> after."""

    kind: str
    object_id: str
    name: str
    changes: list[dict[str, str]] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.changes)


def _changes(
    kind: str, before: Mapping[str, str], after: Mapping[str, str]
) -> list[dict[str, str]]:
    return [
        {"field": name, "before": _text(before.get(name)), "after": _text(after.get(name))}
        for name in COMPARED_FIELDS[kind]
        if name in before and name in after and not same_value(name, before[name], after[name])
    ]


def compare(baseline: Snapshot, snapshot: Snapshot) -> list[Difference]:
    """Every object of the baseline's kinds that the snapshot has seen, compared.

    Only fields both sides hold are compared (a sweep that does not report a field says nothing
    about it). An object absent from a kind the snapshot holds was removed; one the baseline
    lacks was added. Kinds never seen give nothing (no news is not a change).
    """
    found: list[Difference] = []
    for kind in COMPARED_FIELDS:
        if kind not in snapshot or kind not in baseline:
            continue
        now, then = snapshot[kind], baseline[kind]
        for object_id, recorded in then.items():
            current = now.get(object_id)
            if current is None:
                change = {"field": PRESENCE, "before": PRESENT, "after": ABSENT}
                found.append(Difference(kind, object_id, recorded["name"], [change]))
            else:
                changes = _changes(kind, recorded["values"], current["values"])
                found.append(Difference(kind, object_id, current["name"], changes))
        for object_id in now.keys() - then.keys():
            change = {"field": PRESENCE, "before": ABSENT, "after": PRESENT}
            found.append(Difference(kind, object_id, now[object_id]["name"], [change]))
    return found


def group_names(*snapshots: Snapshot) -> dict[str, str]:
    """Group id -> name from every snapshot given (later ones win): labels for membership."""
    names: dict[str, str] = {}
    for snapshot in snapshots:
        for object_id, item in snapshot.get(ObjectKind.CONNECTOR_GROUP, {}).items():
            names[object_id] = item["name"]
    return names


def fingerprint(changes: Iterable[Mapping[str, str]]) -> str:
    """The same changes give the same text (a drift seen again keeps its attribution)."""
    parts = sorted(f"{c['field']}\x1f{c['before']}\x1f{c['after']}" for c in changes)
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


def changes_since(
    previous: Iterable[Mapping[str, Any]], current: Iterable[Mapping[str, Any]]
) -> list[dict[str, str]]:
    """What changed between two looks at an object's drift (each against the baseline): a field
    that moved on (before: what was seen last), one newly changed, and one changed back."""
    earlier = {c["field"]: c for c in previous}
    now = {c["field"]: c for c in current}
    moved: list[dict[str, str]] = []
    for name, change in now.items():
        last = earlier.get(name)
        if last is None:
            moved.append({"field": name, "before": change["before"], "after": change["after"]})
        elif last["after"] != change["after"]:
            moved.append({"field": name, "before": last["after"], "after": change["after"]})
    for name, last in earlier.items():
        if name not in now:
            moved.append({"field": name, "before": last["after"], "after": last["before"]})
    return moved


def labelled(
    changes: Iterable[Mapping[str, Any]], names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Changes of membership carry the groups' names beside their ids, for people."""
    return [
        {
            **change,
            "before_label": names.get(change["before"], ""),
            "after_label": names.get(change["after"], ""),
        }
        if change["field"] == MEMBERSHIP
        else dict(change)
        for change in changes
    ]


def kind_label(kind: str) -> str:
    return ObjectKind(kind).label if kind in ObjectKind.values else kind


def describe(details: Mapping[str, Any]) -> str:
    """A drift observation in one line: where it came from and each change, before -> after."""
    source = {
        "dashboard": "changed through this dashboard",
        "outside": "changed outside the dashboard",
    }.get(str(details.get("source", "")), "changed")
    changes = "; ".join(
        f"{FIELD_LABELS.get(c['field'], c['field'])} "
        f"{c.get('before_label') or c['before'] or '(none)'} → "
        f"{c.get('after_label') or c['after'] or '(none)'}"
        for c in details.get("changes") or []
    )
    return f"{source}: {changes}" if changes else source

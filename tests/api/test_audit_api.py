"""The audit log and Intune's audit events over the API: per role and way in, read-only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client

from audit.models import Action, AuditEntry, Outcome, Phase, TargetType
from audit.services import Actor, Target, audit_record
from sandbox.models import AuditEvent, RequestLog
from sandbox.tenant import audit_event_create
from tests.audit.conftest import ALICE, BOB
from tests.conftest import ADMIN, OPERATOR, READER

pytestmark = pytest.mark.django_db

LIST = "/api/v1/audit/"
CSV = "/api/v1/audit/csv/"
INTUNE = "/api/v1/intune-audit-events/"
INTUNE_PATH = "/beta/deviceManagement/auditEvents*"
ROLES = [READER, OPERATOR, ADMIN]

ClientFor = Callable[[str], Client]


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


def record(
    *,
    actor: Actor = ALICE,
    action: str = Action.EXCHANGE_CONNECTOR_UPDATE,
    target_type: str = TargetType.EXCHANGE_CONNECTOR,
    target_id: str = "ex-1",
    outcome_target_id: str | None = None,
    target_name: str = "EXCH01",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    outcome: Outcome | None = Outcome.SUCCEEDED,
    graph_status: int | None = 200,
    graph_code: str = "",
    graph_request_id: str = "",
    error_message: str = "",
) -> tuple[AuditEntry, AuditEntry | None]:
    """An attempt and (unless outcome=None) its outcome, as audited_graph_write records them."""
    common: dict[str, Any] = {
        "actor": actor,
        "action": action,
        "correlation_id": uuid.uuid4(),
        "before": {"status": "connected"} if before is None else before,
        "after": {"status": "disconnected"} if after is None else after,
        "reason": reason,
    }
    target = Target(type=target_type, id=target_id, name=target_name)
    attempt = audit_record(phase=Phase.ATTEMPT, target=target, **common)
    if outcome is None:
        return attempt, None
    result = audit_record(
        phase=Phase.OUTCOME,
        attempt=attempt,
        target=Target(
            type=target_type,
            id=target_id if outcome_target_id is None else outcome_target_id,
            name=target_name,
        ),
        outcome=outcome,
        graph_status=graph_status,
        graph_code=graph_code,
        graph_request_id=graph_request_id or str(uuid.uuid4()),
        error_message=error_message,
        **common,
    )
    return attempt, result


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> dict[str, AuditEntry]:
    """Five actions over five days in March 2026, by two people, on three kinds of object."""
    plan: list[tuple[str, int, dict[str, Any]]] = [
        ("ex_ok", 1, {"reason": "Rename after migration"}),
        (
            "ex_denied",
            2,
            {
                "actor": BOB,
                "outcome": Outcome.FAILED,
                "graph_status": 403,
                "graph_code": "Authorization_RequestDenied",
                "graph_request_id": "req-denied-403",
                "error_message": "Insufficient privileges to complete the operation.",
            },
        ),
        (
            "group_create",
            3,
            {
                "action": Action.CONNECTOR_GROUP_CREATE,
                "target_type": TargetType.CONNECTOR_GROUP,
                "target_id": "",
                "outcome_target_id": "grp-7",
                "target_name": "Europe West",
                "before": {},
                "after": {"name": "Europe West", "region": "eur"},
                "graph_status": 201,
            },
        ),
        ("crashed", 4, {"actor": BOB, "outcome": None, "target_id": "ex-2", "target_name": "X2"}),
        (
            "proxy_move",
            5,
            {
                "action": Action.APP_PROXY_CONNECTOR_MOVE,
                "target_type": TargetType.APP_PROXY_CONNECTOR,
                "target_id": "apc-1",
                "target_name": "PROXY01",
                "before": {"group": "grp-1"},
                "after": {"group": "grp-7"},
            },
        ),
    ]
    entries = {}
    for name, day, arguments in plan:
        monkeypatch.setattr("audit.services.timezone.now", lambda day=day: at(day))
        entries[name], _ = record(**arguments)
    monkeypatch.undo()
    return entries


@pytest.fixture(params=["session", "bearer"])
def client_as(
    request: pytest.FixtureRequest, signed_in_client: ClientFor, bearer_client: ClientFor
) -> ClientFor:
    """The same calls through both ways in: the browser session and an OBO bearer token."""
    return signed_in_client if request.param == "session" else bearer_client


@pytest.fixture
def reader(bearer_client: ClientFor) -> Client:
    return bearer_client(READER)


def ids(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["results"]]


def named(log: dict[str, AuditEntry], *names: str) -> list[int]:
    return [log[name].pk for name in names]


def csv_rows(response: StreamingHttpResponse) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def entry_state() -> list[tuple[int, str]]:
    return list(AuditEntry.objects.order_by("id").values_list("id", "hash"))


def assert_error(response: HttpResponse, status: int) -> dict[str, Any]:
    """The one error shape: `{"message", "extra"}`, as JSON."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["extra"], dict)
    return body


# -- Every role, both ways in ------------------------------------------------------------------


@pytest.mark.parametrize("upn", ROLES)
def test_every_role_reads_the_log_its_entries_csv_and_intunes_events(
    client_as: ClientFor, log: dict[str, AuditEntry], upn: str
) -> None:
    event = audit_event_create(category="Other", activity="Sync DeviceManagementExchangeConnector")
    client = client_as(upn)

    listing = client.get(LIST)
    assert listing.status_code == 200, listing.content
    assert ids(listing.json()) == named(
        log, "proxy_move", "crashed", "group_create", "ex_denied", "ex_ok"
    )

    one = client.get(f"{LIST}{log['ex_denied'].pk}/")
    assert one.status_code == 200
    assert one.json()["outcome"] == "failed"

    export = client.get(CSV, {"actor": BOB.upn})
    assert export.status_code == 200 and export.streaming
    assert [int(row["id"]) for row in csv_rows(export)] == named(log, "crashed", "ex_denied")

    events = client.get(INTUNE)
    assert events.status_code == 200, events.content
    assert [item["id"] for item in events.json()["results"]] == [event.id]


@pytest.mark.parametrize("upn", ROLES)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_role_can_change_the_log_or_intunes_events_through_the_api(
    client_as: ClientFor, log: dict[str, AuditEntry], upn: str, method: str
) -> None:
    event = audit_event_create(category="Other")
    before = entry_state()
    client = client_as(upn)
    body = json.dumps({"reason": "rewritten", "outcome": "succeeded", "actor_upn": "me"})
    for url in (LIST, f"{LIST}{log['ex_denied'].pk}/", CSV, INTUNE):
        response = getattr(client, method)(url, body, content_type="application/json")
        assert_error(response, 405)
        assert method.upper() not in response["Allow"]
        assert "GET" in response["Allow"]
    assert entry_state() == before
    assert AuditEntry.objects.get(pk=log["ex_denied"].pk).reason == ""
    assert list(AuditEvent.objects.values_list("id", flat=True)) == [event.id]


def test_anonymous_callers_get_401_with_the_bearer_challenge(log: dict[str, AuditEntry]) -> None:
    for url in (LIST, f"{LIST}{log['ex_ok'].pk}/", CSV, INTUNE):
        response = Client().get(url)
        assert_error(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert Client().delete(f"{LIST}{log['ex_ok'].pk}/").status_code == 401
    assert AuditEntry.objects.filter(pk=log["ex_ok"].pk).exists()


# -- The list: paging, filters, sort -----------------------------------------------------------


def test_the_list_is_one_item_per_action_newest_first_with_paging_facts(
    reader: Client, log: dict[str, AuditEntry]
) -> None:
    first = reader.get(LIST, {"page_size": 2}).json()
    assert {key: first[key] for key in ("count", "page", "pages", "page_size")} == {
        "count": 5,  # five actions, not nine rows: attempts are joined with their outcomes
        "page": 1,
        "pages": 3,
        "page_size": 2,
    }
    assert ids(first) == named(log, "proxy_move", "crashed")
    second = reader.get(LIST, {"page_size": 2, "page": 2}).json()
    assert ids(second) == named(log, "group_create", "ex_denied")
    third = reader.get(LIST, {"page_size": 2, "page": 3}).json()
    assert ids(third) == named(log, "ex_ok") and third["page"] == 3
    assert reader.get(LIST).json()["page_size"] == 50


def test_a_page_past_the_end_is_a_404_naming_the_last_page(
    reader: Client, log: dict[str, AuditEntry]
) -> None:
    response = reader.get(LIST, {"page_size": 2, "page": 99})
    # A script looping "until the results are empty" stops instead of reading page 3 forever.
    assert response.status_code == 404
    assert "there are 3" in response.json()["message"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"actor": "ALICE@contoso.example"}, ["proxy_move", "group_create", "ex_ok"]),
        ({"actor": BOB.oid}, ["crashed", "ex_denied"]),
        ({"actor": "Bob Operator"}, ["crashed", "ex_denied"]),
        ({"actor": "nobody@contoso.example"}, []),
        ({"action": "connectorGroup.create"}, ["group_create"]),
        ({"action": "exchangeConnector.update"}, ["crashed", "ex_denied", "ex_ok"]),
        ({"target_type": "appProxyConnector"}, ["proxy_move"]),
        ({"target_type": "exchangeConnector", "target_id": "ex-1"}, ["ex_denied", "ex_ok"]),
        # A create's attempt has no id yet: its history is found by the id Graph assigned.
        ({"target_type": "connectorGroup", "target_id": "grp-7"}, ["group_create"]),
        ({"outcome": "unknown"}, ["crashed"]),
        ({"outcome": "failed"}, ["ex_denied"]),
        ({"outcome": "succeeded"}, ["proxy_move", "group_create", "ex_ok"]),
        ({"date_from": "2026-03-02", "date_to": "2026-03-03"}, ["group_create", "ex_denied"]),
        ({"date_from": "2026-03-04"}, ["proxy_move", "crashed"]),
        ({"date_to": "2026-03-01"}, ["ex_ok"]),
        ({"date_from": "2026-03-03", "date_to": "2026-03-03"}, ["group_create"]),
        ({"q": "req-denied"}, ["ex_denied"]),
        ({"q": "europe"}, ["group_create"]),
        ({"q": "migration"}, ["ex_ok"]),
        ({"q": "Authorization_RequestDenied"}, ["ex_denied"]),
        ({"q": "nothing-like-this"}, []),
        ({"actor": BOB.upn, "outcome": "failed"}, ["ex_denied"]),
    ],
)
def test_filters_narrow_the_list(
    reader: Client, log: dict[str, AuditEntry], query: dict[str, str], expected: list[str]
) -> None:
    response = reader.get(LIST, query)
    assert response.status_code == 200, response.content
    body = response.json()
    assert ids(body) == named(log, *expected)
    assert body["count"] == len(expected)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("time", ["ex_ok", "ex_denied", "group_create", "crashed", "proxy_move"]),
        ("-time", ["proxy_move", "crashed", "group_create", "ex_denied", "ex_ok"]),
        ("actor", ["ex_ok", "group_create", "proxy_move", "ex_denied", "crashed"]),
        ("-actor", ["crashed", "ex_denied", "proxy_move", "group_create", "ex_ok"]),
        ("outcome", ["ex_denied", "ex_ok", "group_create", "proxy_move", "crashed"]),
        ("action", ["proxy_move", "group_create", "ex_ok", "ex_denied", "crashed"]),
    ],
)
def test_the_list_sorts(
    reader: Client, log: dict[str, AuditEntry], sort: str, expected: list[str]
) -> None:
    assert ids(reader.get(LIST, {"sort": sort}).json()) == named(log, *expected)


# -- One entry: the attempt joined with its outcome --------------------------------------------


def test_an_entry_is_the_attempt_joined_with_its_outcome(
    client_as: ClientFor, log: dict[str, AuditEntry]
) -> None:
    attempt = log["ex_denied"]
    outcome = AuditEntry.objects.get(attempt=attempt)
    response = client_as(READER).get(f"{LIST}{attempt.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == attempt.pk
    assert body["correlationId"] == str(attempt.correlation_id)
    assert body["time"].startswith("2026-03-02T12:00:00")
    assert body["actor"] == {"oid": BOB.oid, "upn": BOB.upn, "name": BOB.name}
    assert body["tenantId"] == BOB.tenant_id
    assert body["action"] == "exchangeConnector.update"
    assert body["target"] == {"type": "exchangeConnector", "id": "ex-1", "name": "EXCH01"}
    assert body["before"] == {"status": "connected"}
    assert body["after"] == {"status": "disconnected"}
    assert body["outcome"] == "failed"
    assert body["graph"] == {
        "status": 403,
        "code": "Authorization_RequestDenied",
        "requestId": "req-denied-403",
        "operationId": "",
        "activityId": "",
        "error": "Insufficient privileges to complete the operation.",
    }
    assert body["channel"] == "web" and body["clientIp"] == BOB.client_ip
    # The outcome row's id leads to the same action.
    assert client_as(READER).get(f"{LIST}{outcome.pk}/").json() == body


def test_an_entry_with_a_reason_and_a_graph_assigned_id(
    reader: Client, log: dict[str, AuditEntry]
) -> None:
    ok = reader.get(f"{LIST}{log['ex_ok'].pk}/").json()
    assert ok["reason"] == "Rename after migration" and ok["outcome"] == "succeeded"
    assert ok["graph"]["status"] == 200 and ok["graph"]["requestId"]
    created = reader.get(f"{LIST}{log['group_create'].pk}/").json()
    assert created["target"] == {"type": "connectorGroup", "id": "grp-7", "name": "Europe West"}
    assert created["before"] == {} and created["after"] == {"name": "Europe West", "region": "eur"}
    assert created["graph"]["status"] == 201


def test_an_attempt_without_an_outcome_shows_outcome_unknown(
    reader: Client, log: dict[str, AuditEntry]
) -> None:
    body = reader.get(f"{LIST}{log['crashed'].pk}/").json()
    assert body["outcome"] == "unknown"
    assert body["graph"] == {
        "status": None,
        "code": "",
        "requestId": "",
        "operationId": "",
        "activityId": "",
        "error": "",
    }
    assert body["target"]["id"] == "ex-2"


def test_an_outcome_recorded_without_an_attempt_is_listed_with_its_own_outcome(
    reader: Client,
) -> None:
    orphan = audit_record(
        phase=Phase.OUTCOME,
        actor=ALICE,
        action=Action.EXCHANGE_CONNECTOR_SYNC,
        target=Target(type=TargetType.EXCHANGE_CONNECTOR, id="ex-9", name="EXCH09"),
        correlation_id=uuid.uuid4(),
        outcome=Outcome.FAILED,
        graph_status=503,
        graph_code="ServiceUnavailable",
        graph_request_id="req-503",
    )
    assert ids(reader.get(LIST).json()) == [orphan.pk]
    body = reader.get(f"{LIST}{orphan.pk}/").json()
    assert body["outcome"] == "failed"
    assert body["graph"]["status"] == 503 and body["graph"]["requestId"] == "req-503"


@pytest.mark.parametrize("path", ["0", "987654", str(2**63), str(2**70), "abc", "-1", "1.5"])
def test_a_missing_or_malformed_id_is_a_json_404(
    reader: Client, log: dict[str, AuditEntry], path: str
) -> None:
    body = assert_error(reader.get(f"{LIST}{path}/"), 404)
    assert body["extra"] == {}


@pytest.mark.parametrize("path", ["-7193851", "abc", "1.5"])
def test_a_malformed_id_under_the_tenant_s_api_is_a_json_404_too(
    reader: Client, log: dict[str, AuditEntry], path: str
) -> None:
    """The tenant's URLs have their own URLconf: its 404 must still be the API's JSON."""
    from django.conf import settings

    tenant_list = f"/api/v1/tenants/{settings.ENTRA_TENANT_ID}/audit/"
    body = assert_error(reader.get(f"{tenant_list}{path}/"), 404)
    assert body["message"] == "No such API URL."


# -- CSV ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"outcome": "failed"},
        {"actor": ALICE.upn, "sort": "time"},
        {"target_type": "connectorGroup", "target_id": "grp-7"},
        {"date_from": "2026-03-02", "date_to": "2026-03-04", "q": "ex"},
    ],
)
def test_csv_has_the_same_rows_as_the_filtered_list(
    client_as: ClientFor, log: dict[str, AuditEntry], query: dict[str, str]
) -> None:
    client = client_as(READER)
    listed = client.get(LIST, query).json()["results"]
    export = client.get(CSV, query)
    assert export.status_code == 200
    assert export.streaming
    assert export["Content-Type"] == "text/csv; charset=utf-8"
    assert export["Content-Disposition"].startswith('attachment; filename="audit-log-')
    rows = csv_rows(export)
    assert [int(row["id"]) for row in rows] == [item["id"] for item in listed]
    for row, item in zip(rows, listed, strict=True):
        assert row["outcome"] == item["outcome"]
        assert row["actor_upn"] == item["actor"]["upn"]
        assert row["target_id"] == item["target"]["id"]
        assert row["graph_request_id"] == item["graph"]["requestId"]


def test_csv_ignores_paging_and_exports_every_matching_row(
    reader: Client, log: dict[str, AuditEntry]
) -> None:
    export = reader.get(CSV, {"page_size": 1, "page": 2})
    assert len(csv_rows(export)) == 5


def test_csv_is_served_to_a_client_that_asks_for_csv(
    reader: Client, log: dict[str, AuditEntry]
) -> None:
    # What the schema documents for the 200 (text/csv), as curl or a generated client asks.
    export = reader.get(CSV, headers={"Accept": "text/csv"})
    assert export.status_code == 200, export.content
    assert len(csv_rows(export)) == 5
    assert len(csv_rows(reader.get(CSV, {"format": "csv"}))) == 5
    # Errors stay JSON, whatever the client asked for.
    refused = reader.get(CSV, {"outcome": "maybe"}, headers={"Accept": "text/csv"})
    assert "outcome" in assert_error(refused, 400)["extra"]["fields"]
    anonymous = Client().get(CSV, headers={"Accept": "text/csv"})
    assert_error(anonymous, 401)
    # The list is JSON only.
    assert_error(reader.get(LIST, headers={"Accept": "text/csv"}), 406)


def test_csv_of_an_empty_selection_is_just_the_header(
    reader: Client, log: dict[str, AuditEntry]
) -> None:
    export = reader.get(CSV, {"actor": "nobody@contoso.example"})
    text = b"".join(export.streaming_content).decode()
    assert text.splitlines()[0].startswith("id,time_utc,actor_upn")
    assert len(text.splitlines()) == 1


# -- Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"date_from": "2026-13-45"}, "date_from", "Enter a valid date."),
        ({"date_to": "yesterday"}, "date_to", "Enter a valid date."),
        ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "date_to", "before the start"),
        ({"outcome": "maybe"}, "outcome", "Select a valid choice."),
        ({"sort": "password"}, "sort", "Select a valid choice."),
        ({"page_size": "0"}, "page_size", "greater than or equal to 1"),
        ({"page_size": "999"}, "page_size", "less than or equal to 200"),
        ({"page": "x"}, "page", "valid integer"),
        ({"page": "0"}, "page", "greater than or equal to 1"),
        ({"actor": "x" * 300}, "actor", "at most 255"),
        ({"colour": "red"}, "colour", "Unknown field."),
    ],
)
def test_bad_list_parameters_are_400_naming_the_field(
    reader: Client,
    log: dict[str, AuditEntry],
    query: dict[str, str],
    field: str,
    message: str,
) -> None:
    body = assert_error(reader.get(LIST, query), 400)
    assert message in " ".join(body["extra"]["fields"][field])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "date_to"),
        ({"outcome": "maybe"}, "outcome"),
        ({"sort": "password"}, "sort"),
    ],
)
def test_bad_csv_filters_are_a_400_not_a_partial_file(
    reader: Client, log: dict[str, AuditEntry], query: dict[str, str], field: str
) -> None:
    response = reader.get(CSV, query)
    assert not response.streaming
    body = assert_error(response, 400)
    assert field in body["extra"]["fields"]


# -- Intune's audit events ---------------------------------------------------------------------


@pytest.fixture
def events() -> dict[str, AuditEvent]:
    def event(category: str, activity_type: str, day: int) -> AuditEvent:
        return audit_event_create(
            category=category,
            activity=activity_type,
            activity_type=activity_type,
            activity_date_time=dt.datetime(2026, 2, day, 12, tzinfo=dt.UTC),
            actor={"userPrincipalName": "ada@contoso.example", "ipAddress": "198.51.100.9"},
        )

    return {
        "role": event("Role", "Create RoleDefinition", 1),
        "patch": event("Other", "Patch DeviceManagementExchangeConnector", 2),
        "sync": event("Other", "Sync DeviceManagementExchangeConnector", 3),
    }


def event_ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["results"]]


def test_intune_events_come_newest_first_with_their_fields(
    client_as: ClientFor, events: dict[str, AuditEvent]
) -> None:
    response = client_as(READER).get(INTUNE)
    assert response.status_code == 200, response.content
    body = response.json()
    assert event_ids(body) == [events[name].id for name in ("sync", "patch", "role")]
    assert body["next"] is None
    sync = body["results"][0]
    assert sync["activityType"] == "Sync DeviceManagementExchangeConnector"
    assert sync["category"] == "Other"
    assert sync["activityDateTime"].startswith("2026-02-03T12:00:00")
    assert "ada@contoso.example" in sync["actor"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "Other"}, ["sync", "patch"]),
        (
            {"category": "Other", "activity_type": "Sync DeviceManagementExchangeConnector"},
            ["sync"],
        ),
        ({"category": "Role", "activity_type": "Create RoleDefinition"}, ["role"]),
        ({"date_from": "2026-02-02", "date_to": "2026-02-02"}, ["patch"]),
        ({"date_from": "2026-02-02"}, ["sync", "patch"]),
        ({"date_to": "2026-02-01"}, ["role"]),
        ({"category": "Other", "date_to": "2026-02-02"}, ["patch"]),
    ],
)
def test_intune_filters_are_sent_to_graph(
    reader: Client,
    events: dict[str, AuditEvent],
    query: dict[str, str],
    expected: list[str],
) -> None:
    response = reader.get(INTUNE, query)
    assert response.status_code == 200, response.content
    assert event_ids(response.json()) == [events[name].id for name in expected]
    listing = RequestLog.objects.filter(path__endswith="/auditEvents").latest("id")
    assert "filter=" in listing.query


def test_intune_paging_follows_the_returned_next(reader: Client) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(
            activity=f"Event {n:03d}",
            display_name=f"Event {n:03d}",
            activity_type="Sync DeviceManagementExchangeConnector",
            activity_date_time=dt.datetime(2026, 2, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
            category="Other" if n % 6 else "Role",
        )
        for n in range(144)
    )
    seen: list[str] = []
    pages: list[int] = []
    query: dict[str, str] = {"category": "Other"}
    while True:
        body = reader.get(INTUNE, query).json()
        pages.append(len(body["results"]))
        seen += [item["displayName"] for item in body["results"]]
        assert {item["category"] for item in body["results"]} == {"Other"}
        if body["next"] is None:
            break
        assert urlsplit(body["next"]).path.endswith("/deviceManagement/auditEvents")
        query = {"next": body["next"]}
    assert pages == [50, 50, 20]
    assert len(seen) == len(set(seen)) == 120
    assert seen[0] == "Event 143" and seen[-1] == "Event 001"


@pytest.mark.parametrize(
    "next_link",
    [
        "https://evil.example/beta/deviceManagement/auditEvents?$skiptoken=1",
        "https://graph.sandbox.localhost/beta/deviceManagement/exchangeConnectors?$skiptoken=1",
        "https://graph.sandbox.localhost/beta/deviceManagement/auditEvents/some-id?x=1",
        "https://graph.sandbox.localhost.evil.example/beta/deviceManagement/auditEvents?$top=1",
        "/beta/deviceManagement/auditEvents?$skiptoken=1",
        "javascript:alert(1)",
    ],
)
def test_a_next_that_does_not_lead_to_intunes_audit_events_is_400(
    reader: Client, events: dict[str, AuditEvent], next_link: str
) -> None:
    before = RequestLog.objects.filter(path__endswith="/auditEvents").count()
    body = assert_error(reader.get(INTUNE, {"next": next_link}), 400)
    assert "does not lead to Intune" in " ".join(body["extra"]["fields"]["next"])
    assert RequestLog.objects.filter(path__endswith="/auditEvents").count() == before


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"date_from": "02/30/2026"}, "date_from", "Enter a valid date."),
        ({"date_from": "2026-02-05", "date_to": "2026-02-01"}, "date_to", "before the start"),
        ({"category": "NoSuchCategory"}, "category", "Select a valid choice."),
        # Graph offers this activity type only in another category.
        (
            {"category": "Other", "activity_type": "Create RoleDefinition"},
            "activity_type",
            "Select a valid choice.",
        ),
        ({"activity_type": "Create RoleDefinition"}, "activity_type", "Select a valid choice."),
        ({"colour": "red"}, "colour", "Unknown field."),
    ],
)
def test_bad_intune_filters_are_400_naming_the_field(
    reader: Client,
    events: dict[str, AuditEvent],
    query: dict[str, str],
    field: str,
    message: str,
) -> None:
    before = RequestLog.objects.filter(path__endswith="/auditEvents").count()
    body = assert_error(reader.get(INTUNE, query), 400)
    assert message in " ".join(body["extra"]["fields"][field])
    assert RequestLog.objects.filter(path__endswith="/auditEvents").count() == before


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"fault": "503"}, 503, "serviceNotAvailable"),
        ({"fault": "500"}, 502, ""),
        ({"fault": "429", "retry_after": 7}, 503, "TooManyRequests"),
    ],
)
def test_graph_faults_on_intune_events_keep_graphs_request_id(
    client_as: ClientFor,
    events: dict[str, AuditEvent],
    sandbox_faults: Any,
    settings: Any,
    fault: dict[str, Any],
    status: int,
    code: str,
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    client = client_as(READER)
    sandbox_faults.install({"path": INTUNE_PATH, **fault})
    response = client.get(INTUNE)
    body = assert_error(response, status)
    last = RequestLog.objects.filter(path__contains="/auditEvents").latest("id")
    assert body["extra"]["graph_request_id"] == last.request_id
    assert body["extra"]["graph_status"] == int(fault["fault"])
    if code:
        assert body["extra"]["graph_code"] == code
    if "retry_after" in fault:
        assert response["Retry-After"] == "7"


def test_a_token_without_the_apps_scope_is_403_naming_the_permission(
    client_as: ClientFor, events: dict[str, AuditEvent], settings: Any
) -> None:
    # The dashboard asks Graph only for the Exchange scope: Graph refuses the audit reads.
    settings.GRAPH_SCOPES = [
        "https://graph.microsoft.com/DeviceManagementServiceConfig.ReadWrite.All"
    ]
    response = client_as(ADMIN).get(INTUNE)
    body = assert_error(response, 403)
    assert body["extra"]["required_permission"] == "DeviceManagementApps.Read.All"
    last = RequestLog.objects.filter(path__contains="/auditEvents").latest("id")
    assert body["extra"]["graph_request_id"] == last.request_id


def test_intune_next_pages_carry_the_next_link_query_unchanged(reader: Client) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(
            activity=f"Event {n}",
            display_name=f"Event {n}",
            activity_date_time=dt.datetime(2026, 2, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
            category="Other",
        )
        for n in range(60)
    )
    first = reader.get(INTUNE, {"category": "Other", "date_from": "2026-02-01"}).json()
    assert first["next"]
    link_query = parse_qs(urlsplit(first["next"]).query)
    assert "category eq 'Other'" in link_query["$filter"][0]
    # A stray `page` (the HTML pager's) is ignored rather than refused.
    second = reader.get(INTUNE, {"next": first["next"], "page": "2"})
    assert second.status_code == 200, second.content
    assert len(second.json()["results"]) == 10


def test_cursors_walk_every_action_forwards_and_back(
    reader: Client, log: dict[str, AuditEntry]
) -> None:
    pages, cursor = [], ""
    while True:
        body = reader.get(LIST, {"page_size": 2, **({"cursor": cursor} if cursor else {})}).json()
        pages.append(ids(body))
        cursor = body["next_cursor"]
        if not cursor:
            break
    newest_first = named(log, "proxy_move", "crashed", "group_create", "ex_denied", "ex_ok")
    assert pages == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    assert body["page"] is None and body["count"] == 5 and body["count_exact"] is True
    back = reader.get(LIST, {"page_size": 2, "cursor": body["previous_cursor"]}).json()
    assert ids(back) == newest_first[2:4]


def test_cursors_follow_the_chosen_sort(reader: Client, log: dict[str, AuditEntry]) -> None:
    first = reader.get(LIST, {"page_size": 3, "sort": "actor"}).json()
    rest = reader.get(
        LIST, {"page_size": 3, "sort": "actor", "cursor": first["next_cursor"]}
    ).json()
    upns = [item["actor"]["upn"] for item in first["results"] + rest["results"]]
    assert upns == sorted(upns) and len(upns) == 5
    assert rest["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["not-a-cursor", "WyJuZXh0IiwgWzEsIDJdXQ"])
def test_a_damaged_cursor_is_a_400_naming_the_field(
    reader: Client, log: dict[str, AuditEntry], cursor: str
) -> None:
    body = assert_error(reader.get(LIST, {"cursor": cursor}), 400)
    assert "cursor" in json.dumps(body)


def test_page_numbers_stop_where_counting_would_get_expensive(
    reader: Client, log: dict[str, AuditEntry], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("audit.paging.MAX_OFFSET", 2)
    body = assert_error(reader.get(LIST, {"page_size": 1, "page": 3}), 400)
    assert "next_cursor" in body["extra"]["fields"]["page"][0]
    # The same rows stay reachable through the cursor.
    first = reader.get(LIST, {"page_size": 2}).json()
    assert first["next_cursor"]

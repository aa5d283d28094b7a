"""The audit viewer: one line per action, filters in the URL, sorting, paging, detail, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.test import Client

from audit import chain
from audit.links import audit_history_url
from audit.models import Action, AuditEntry, Outcome, TargetType
from audit.services import Target, audited_graph_write
from graph.errors import GraphError
from tests.audit.conftest import ALICE, BOB, RecordAction

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def listed_ids(response) -> list[int]:
    """The action ids shown in the table, in page order."""
    return [int(i) for i in re.findall(r'data-entry-id="(\d+)"', response.content.decode())]


def csv_rows(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def log(record_action: RecordAction, monkeypatch: pytest.MonkeyPatch) -> dict[str, AuditEntry]:
    """Five actions over five days, by two people, on three kinds of object."""
    entries = {}
    plan = [
        ("ex_ok", 1, {"actor": ALICE, "reason": "Rename after migration"}),
        (
            "ex_denied",
            2,
            {
                "actor": BOB,
                "outcome": Outcome.FAILED,
                "graph_status": 403,
                "graph_code": "Authorization_RequestDenied",
                "graph_request_id": "req-denied-403",
            },
        ),
        (
            "group_create",
            3,
            {
                "actor": ALICE,
                "action": Action.CONNECTOR_GROUP_CREATE,
                "target_type": TargetType.CONNECTOR_GROUP,
                "target_id": "grp-7",
                "target_name": "Europe West",
                "before": {},
                "after": {"name": "Europe West", "region": "eur"},
            },
        ),
        ("crashed", 4, {"actor": BOB, "outcome": None, "target_id": "ex-2", "target_name": "X2"}),
        (
            "proxy_move",
            5,
            {
                "actor": ALICE,
                "action": Action.APP_PROXY_CONNECTOR_MOVE,
                "target_type": TargetType.APP_PROXY_CONNECTOR,
                "target_id": "apc-1",
                "target_name": "PROXY01",
                "before": {"group": "grp-1"},
                "after": {"group": "grp-7"},
            },
        ),
    ]
    for name, day, arguments in plan:
        monkeypatch.setattr("audit.services.timezone.now", lambda day=day: at(day))
        entries[name] = record_action(**arguments)
    monkeypatch.undo()
    return entries


def test_the_list_shows_one_line_per_action_with_its_outcome_and_request_id(
    admin_client: Client, log: dict[str, AuditEntry]
) -> None:
    response = admin_client.get("/audit/")
    page = response.content.decode()
    assert response.status_code == 200
    # Five actions, not ten rows: attempt and outcome are joined; newest first.
    assert listed_ids(response) == [
        log[name].pk for name in ("proxy_move", "crashed", "group_create", "ex_denied", "ex_ok")
    ]
    assert "5 actions" in page
    assert "Authorization_RequestDenied" in page and "req-denied-403" in page
    assert 'badge badge-bad">Failed' in page
    assert 'badge badge-warn">Outcome unknown' in page
    assert 'badge badge-ok">Succeeded' in page
    assert "Group: grp-1 → grp-7" in page
    assert "Reason: Rename after migration" in page
    assert '<time datetime="2026-03-05T12:00:00+00:00" title="2026-03-05 12:00:00 UTC">' in page
    assert '<a href="/audit/" aria-current="page">Audit log</a>' in page


def test_htmx_gets_only_the_results_region(
    admin_client: Client, log: dict[str, AuditEntry]
) -> None:
    response = admin_client.get("/audit/", {"actor": "bob@contoso.example"}, headers=HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="audit-results"')
    assert "<html" not in body
    assert listed_ids(response) == [log["crashed"].pk, log["ex_denied"].pk]
    assert response["Vary"].count("HX-Request") == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"actor": "ALICE@contoso.example"}, ["proxy_move", "group_create", "ex_ok"]),
        ({"action": "connectorGroup.create"}, ["group_create"]),
        ({"target_type": "appProxyConnector"}, ["proxy_move"]),
        ({"outcome": "unknown"}, ["crashed"]),
        ({"outcome": "failed"}, ["ex_denied"]),
        ({"outcome": "succeeded"}, ["proxy_move", "group_create", "ex_ok"]),
        ({"date_from": "2026-03-02", "date_to": "2026-03-03"}, ["group_create", "ex_denied"]),
        ({"date_from": "2026-03-04"}, ["proxy_move", "crashed"]),
        ({"q": "req-denied"}, ["ex_denied"]),
        ({"q": "europe"}, ["group_create"]),
        ({"q": "migration"}, ["ex_ok"]),
        ({"q": "nothing-like-this"}, []),
    ],
)
def test_filters_narrow_the_list(
    admin_client: Client, log: dict[str, AuditEntry], query: dict[str, str], expected: list[str]
) -> None:
    plain = admin_client.get("/audit/", query)
    htmx = admin_client.get("/audit/", query, headers=HX)
    assert plain.status_code == htmx.status_code == 200
    assert listed_ids(plain) == listed_ids(htmx) == [log[name].pk for name in expected]
    if not expected:
        assert "No actions match these filters." in plain.content.decode()


def test_the_form_keeps_the_filters_from_the_url(
    admin_client: Client, log: dict[str, AuditEntry]
) -> None:
    page = admin_client.get("/audit/", {"q": "europe", "outcome": "failed"}).content.decode()
    assert 'name="q" value="europe"' in page
    assert '<option value="failed" selected>' in page


def test_an_objects_history_link_lists_every_action_on_it(
    admin_client: Client, log: dict[str, AuditEntry], record_action: RecordAction
) -> None:
    url = audit_history_url(target_type=TargetType.EXCHANGE_CONNECTOR, target_id="ex-1")
    assert url == "/audit/?target_type=exchangeConnector&target_id=ex-1"
    response = admin_client.get(url)
    assert listed_ids(response) == [log["ex_denied"].pk, log["ex_ok"].pk]


def test_a_creates_history_is_found_by_the_id_graph_assigned(
    admin_client: Client, record_action: RecordAction
) -> None:
    created = record_action(
        action=Action.CONNECTOR_GROUP_CREATE,
        target_type=TargetType.CONNECTOR_GROUP,
        target_id="",
        target_name="Asia",
    )
    # The attempt had no id; the outcome row carries the one Graph assigned.
    assert created.target_id == ""
    assert listed_ids(admin_client.get("/audit/", {"target_id": ""})) == [created.pk]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("time", ["ex_ok", "ex_denied", "group_create", "crashed", "proxy_move"]),
        ("-time", ["proxy_move", "crashed", "group_create", "ex_denied", "ex_ok"]),
        ("actor", ["ex_ok", "group_create", "proxy_move", "ex_denied", "crashed"]),
        ("-actor", ["crashed", "ex_denied", "proxy_move", "group_create", "ex_ok"]),
        ("action", ["proxy_move", "group_create", "ex_ok", "ex_denied", "crashed"]),
        ("outcome", ["ex_denied", "ex_ok", "group_create", "proxy_move", "crashed"]),
    ],
)
def test_columns_sort(
    admin_client: Client, log: dict[str, AuditEntry], sort: str, expected: list[str]
) -> None:
    response = admin_client.get("/audit/", {"sort": sort})
    assert listed_ids(response) == [log[name].pk for name in expected]


def test_sort_links_flip_direction_and_keep_the_filters(
    admin_client: Client, log: dict[str, AuditEntry]
) -> None:
    page = admin_client.get("/audit/", {"q": "contoso", "sort": "actor"}).content.decode()
    assert 'aria-sort="ascending"' in page
    assert 'href="?q=contoso&amp;sort=-actor"' in page
    # The current sort rides along with the next filter change.
    assert '<input type="hidden" name="sort" value="actor" form="audit-filters">' in page


def test_the_list_is_paginated_and_page_links_keep_the_filters(
    admin_client: Client, record_action: RecordAction
) -> None:
    for n in range(120):
        record_action(target_id=f"ex-{n}", reason="bulk")
    first = admin_client.get("/audit/", {"q": "bulk"})
    assert len(listed_ids(first)) == 50
    page = first.content.decode()
    assert "Page 1 of 3" in page
    assert 'href="?q=bulk&amp;page=2"' in page
    last = admin_client.get("/audit/", {"q": "bulk", "page": "3"}, headers=HX)
    assert len(listed_ids(last)) == 20
    assert "Page 3 of 3" in last.content.decode()
    # A page number out of range shows the last page rather than an error.
    assert admin_client.get("/audit/", {"q": "bulk", "page": "99"}).status_code == 200


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"date_from": "2026-13-45"}, "From", "Enter a valid date."),
        ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "To", "before the start date"),
        ({"outcome": "maybe"}, "Outcome", "Select a valid choice."),
        ({"sort": "password"}, "Sort order", "Select a valid choice."),
        ({"format": "xlsx"}, "Format", "Select a valid choice."),
        ({"q": "x" * 300}, "Search", "at most 200 characters"),
    ],
)
def test_bad_filter_values_get_a_clear_error_not_a_500(
    admin_client: Client,
    log: dict[str, AuditEntry],
    query: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = admin_client.get("/audit/", query)
    page = response.content.decode()
    assert response.status_code == 400
    assert "These filters cannot be applied" in page
    assert f"<li>{field}: " in page and message in page
    assert listed_ids(response) == []
    htmx = admin_client.get("/audit/", query, headers=HX)
    assert htmx.status_code == 422  # swapped by the page's htmx config
    assert message in htmx.content.decode()
    if "format" not in query:
        csv_attempt = admin_client.get("/audit/", {**query, "format": "csv"})
        assert csv_attempt.status_code == 400
        assert not csv_attempt.streaming


def test_a_bad_date_keeps_what_was_typed(admin_client: Client) -> None:
    page = admin_client.get("/audit/", {"date_from": "yesterday"}).content.decode()
    assert 'name="date_from" value="yesterday"' in page
    assert "Enter a valid date." in page


def test_csv_export_has_the_same_rows_as_the_filtered_page(
    admin_client: Client, log: dict[str, AuditEntry]
) -> None:
    query = {"actor": "alice@contoso.example", "sort": "target"}
    page = admin_client.get("/audit/", query)
    export = admin_client.get("/audit/", {**query, "format": "csv"})
    assert export.status_code == 200
    assert export.streaming
    assert export["Content-Type"] == "text/csv; charset=utf-8"
    assert re.match(
        r'attachment; filename="audit-log-\d{8}-\d{6}\.csv"', export["Content-Disposition"]
    )
    rows = csv_rows(export)
    assert [int(row["id"]) for row in rows] == listed_ids(page) != []
    created = next(row for row in rows if row["id"] == str(log["group_create"].pk))
    assert created["action"] == "connectorGroup.create"
    assert created["after"] == '{"name": "Europe West", "region": "eur"}'
    assert created["outcome"] == "succeeded"
    assert created["time_utc"] == "2026-03-03T12:00:00.000000Z"


def test_csv_export_records_failures_and_unknown_outcomes(
    admin_client: Client, log: dict[str, AuditEntry]
) -> None:
    rows = {row["id"]: row for row in csv_rows(admin_client.get("/audit/?format=csv"))}
    denied = rows[str(log["ex_denied"].pk)]
    assert (denied["outcome"], denied["graph_status"], denied["graph_code"]) == (
        "failed",
        "403",
        "Authorization_RequestDenied",
    )
    assert denied["graph_request_id"] == "req-denied-403"
    assert rows[str(log["crashed"].pk)]["outcome"] == "unknown"


def test_csv_cells_cannot_run_as_spreadsheet_formulas(
    admin_client: Client, record_action: RecordAction
) -> None:
    record_action(reason='=HYPERLINK("http://evil.example","click")')
    (row,) = csv_rows(admin_client.get("/audit/?format=csv"))
    assert row["reason"] == '\'=HYPERLINK("http://evil.example","click")'


def test_the_detail_shows_a_field_by_field_diff_and_the_graph_answer(
    admin_client: Client, record_action: RecordAction
) -> None:
    attempt = record_action(
        before={"serverName": "exch01", "status": "connected", "version": "1.0"},
        after={"serverName": "exch01.contoso.example", "status": "connected"},
        reason="FQDN required",
        graph_request_id="req-detail-1",
    )
    response = admin_client.get(f"/audit/{attempt.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(
        r'<tr class="diff-changed">\s*<th scope="row" title="serverName">Server name</th>\s*'
        r'<td class="diff-before">exch01</td>\s*<td class="diff-after">exch01.contoso.example',
        page,
    )
    # An unchanged field is listed but not marked as changed.
    assert re.search(r"<tr>\s*<th scope=\"row\" title=\"status\">Status</th>", page)
    assert "FQDN required" in page
    assert 'data-testid="request-id">req-detail-1<' in page
    assert 'data-testid="outcome">Succeeded<' in page
    assert str(attempt.correlation_id) in page
    assert 'href="/audit/?target_type=exchangeConnector&amp;target_id=ex-1"' in page
    # Opening the outcome row shows the same action.
    outcome_page = admin_client.get(f"/audit/{attempt.outcome_row.pk}/").content.decode()
    assert "FQDN required" in outcome_page and "req-detail-1" in outcome_page


def test_the_detail_of_a_crashed_write_says_outcome_unknown(
    admin_client: Client, record_action: RecordAction
) -> None:
    attempt = record_action(outcome=None)
    page = admin_client.get(f"/audit/{attempt.pk}/").content.decode()
    assert 'data-testid="outcome">Outcome unknown<' in page
    assert "no outcome followed" in page


@pytest.mark.parametrize("path", ["/audit/999999/", "/audit/abc/"])
def test_a_missing_entry_is_a_404(admin_client: Client, path: str) -> None:
    assert admin_client.get(path).status_code == 404


@pytest.mark.parametrize("client_fixture", ["reader_client", "operator_client", "admin_client"])
def test_every_role_can_read_the_log(
    request: pytest.FixtureRequest, client_fixture: str, record_action: RecordAction
) -> None:
    client: Client = request.getfixturevalue(client_fixture)
    attempt = record_action()
    assert client.get("/audit/").status_code == 200
    assert client.get(f"/audit/{attempt.pk}/").status_code == 200
    assert client.get("/audit/?format=csv").status_code == 200
    assert client.head("/audit/").status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_role_and_no_url_can_change_the_log(
    admin_client: Client, record_action: RecordAction, method: str
) -> None:
    attempt = record_action()
    before = list(AuditEntry.objects.values_list("id", "hash"))
    for path in ("/audit/", f"/audit/{attempt.pk}/"):
        response = getattr(admin_client, method)(path, {"reason": "rewritten"})
        assert response.status_code == 405
        assert set(response["Allow"].split(", ")) == {"GET", "HEAD"}
    assert list(AuditEntry.objects.values_list("id", "hash")) == before


def test_signed_out_visitors_are_sent_to_sign_in() -> None:
    response = Client().get("/audit/?outcome=failed")
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/sign-in/?next=/audit/")


def test_a_fresh_log_says_nothing_has_changed_yet(reader_client: Client) -> None:
    page = reader_client.get("/audit/").content.decode()
    assert "Nothing has been changed through the dashboard yet." in page


def test_action_and_target_type_filters_are_dropdowns_with_human_labels(
    admin_client: Client, log: dict[str, AuditEntry]
) -> None:
    """Issue 13, item 8: no internal codes to type; each option names the action in words."""
    page = admin_client.get("/audit/").content.decode()
    assert '<select name="action"' in page and '<select name="target_type"' in page
    assert '<option value="exchangeConnector.sync">Sync Exchange connector</option>' in page
    assert '<option value="appProxyConnector">App Proxy connector</option>' in page
    chosen = admin_client.get("/audit/", {"action": Action.APP_PROXY_CONNECTOR_MOVE})
    assert listed_ids(chosen) == [log["proxy_move"].pk]
    assert admin_client.get("/audit/", {"action": "sync"}).status_code == 400


def test_a_move_reads_group_a_to_group_b(admin_client: Client, record_action: RecordAction) -> None:
    """Issue 13, item 8: a move's change is the groups' names, not Graph's JSON."""
    record_action(
        action=Action.APP_PROXY_CONNECTOR_MOVE,
        target_type=TargetType.APP_PROXY_CONNECTOR,
        before={"memberOf": {"id": "g-1", "name": "Default"}},
        after={"memberOf": [{"id": "g-2", "name": "EU Web Apps"}]},
    )
    page = admin_client.get("/audit/").content.decode()
    assert "Group: Default → EU Web Apps" in page
    assert '"id"' not in page.split("<tbody>")[1]


def test_a_fresh_entry_reads_now_not_0_minutes_ago(
    admin_client: Client, record_action: RecordAction
) -> None:
    """Issue 13, item 10: relative times in words, the same on every page."""
    record_action()
    page = admin_client.get("/audit/").content.decode()
    assert "0 minutes ago" not in page and "0\xa0minutes ago" not in page
    assert re.search(r">(now|\d+\xa0seconds? ago|a second ago)<", page), page


def test_intunes_operation_and_activity_ids_of_a_failure_are_kept_shown_and_exported(
    admin_client: Client,
) -> None:
    error = GraphError("Internal error", status=500, code="InternalError", request_id="r-500")
    # Set by the Graph client from Intune's error body (its "Operation ID" / "Activity ID").
    error.operation_id = "op-7f3a"  # type: ignore[attr-defined]
    error.activity_id = "act-91c2"  # type: ignore[attr-defined]
    with (
        pytest.raises(GraphError),
        audited_graph_write(
            actor=ALICE,
            action=Action.EXCHANGE_CONNECTOR_SYNC,
            target=Target(type=TargetType.EXCHANGE_CONNECTOR, id="ex-9"),
        ),
    ):
        raise error
    outcome = AuditEntry.objects.get(phase="outcome")
    assert (outcome.graph_operation_id, outcome.graph_activity_id) == ("op-7f3a", "act-91c2")
    page = admin_client.get(f"/audit/{outcome.attempt_id}/").content.decode()
    assert '<code data-testid="operation-id">op-7f3a</code>' in page
    assert '<code data-testid="activity-id">act-91c2</code>' in page
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(admin_client.get("/audit/", {"format": "csv"}).streaming_content).decode()
            )
        )
    )
    assert (rows[0]["graph_operation_id"], rows[0]["graph_activity_id"]) == ("op-7f3a", "act-91c2")
    # The ids are hashed: changing one is a broken chain.
    assert chain.canonical_json(outcome).count("op-7f3a") == 1


def test_the_oldest_page_and_a_bad_page_link_are_served_not_500(
    admin_client: Client, record_action: RecordAction
) -> None:
    for n in range(60):
        record_action(target_id=f"ex-{n}", reason="bulk")
    newest = listed_ids(admin_client.get("/audit/", {"q": "bulk"}))
    oldest = listed_ids(admin_client.get("/audit/", {"q": "bulk", "page": "last"}))
    assert len(oldest) == 50 and oldest[-1] < newest[-1] and oldest == sorted(oldest, reverse=True)
    broken = admin_client.get("/audit/", {"cursor": "garbage"})
    assert broken.status_code == 400
    assert "This page link is damaged" in broken.content.decode()


def test_a_page_number_past_the_numbered_pages_is_a_clear_400(
    admin_client: Client, record_action: RecordAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        record_action(target_id=f"ex-{n}")
    monkeypatch.setattr("audit.views.PAGE_SIZE", 1)
    monkeypatch.setattr("audit.paging.MAX_OFFSET", 2)
    response = admin_client.get("/audit/", {"page": "3"})
    assert response.status_code == 400
    assert "Page 3 is past the first 2 actions" in response.content.decode()
    # The Next link of page 2 moves on with a cursor instead, to the same third action.
    second = admin_client.get("/audit/", {"page": "2"}).content.decode()
    cursor = re.search(r'href="\?cursor=([^"&]+)"[^>]*rel="next"', second)
    assert cursor is not None
    third = admin_client.get("/audit/", {"cursor": cursor.group(1)})
    assert listed_ids(third) == [AuditEntry.objects.order_by("id").first().pk]

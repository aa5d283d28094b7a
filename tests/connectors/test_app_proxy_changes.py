"""Editing and moving App Proxy connectors; creating, editing and deleting connector groups."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from audit.models import Action, AuditEntry, Outcome, Phase
from sandbox.models import AppProxyConnector, ConnectorGroup
from tests.conftest import ADMIN, LIMITED, OPERATOR, READER, consent_to
from tests.connectors.support import forget_graph_calls, graph_calls, writes
from tests.sandbox import factories

pytestmark = pytest.mark.django_db
DIRECTORY = ["https://graph.microsoft.com/Directory.ReadWrite.All"]
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def consented() -> None:
    for upn in (ADMIN, OPERATOR, READER, LIMITED):
        consent_to(upn, DIRECTORY)


@pytest.fixture
def groups() -> dict[str, ConnectorGroup]:
    return {
        "default": factories.connector_group(name="Default", is_default=True),
        "east": factories.connector_group(name="East", region="eur"),
        "empty": factories.connector_group(name="Spare"),
        "sync": factories.connector_group(
            name="Sync", connector_group_type=factories.FUTURE_GROUP_TYPE
        ),
        "apps": factories.connector_group(name="Published", applications=2),
    }


@pytest.fixture
def connector(groups) -> AppProxyConnector:
    factories.app_proxy_connector(machine_name="APPPROXY-B.contoso.local", group=groups["default"])
    factories.app_proxy_connector(machine_name="APPPROXY-E.contoso.local", group=groups["east"])
    return factories.app_proxy_connector(
        machine_name="APPPROXY-A.contoso.local",
        group=groups["default"],
        external_ip="203.0.113.10",
        status="active",
    )


def outcomes(action: str | None = None) -> list[AuditEntry]:
    entries = AuditEntry.objects.filter(phase=Phase.OUTCOME).order_by("id")
    return list(entries.filter(action=action) if action else entries)


def form_fields(html: str) -> dict[str, str]:
    fields = dict(re.findall(r'<input type="(?:text|hidden)" name="(\w+)" value="([^"]*)"', html))
    for name in ("status", "region", "group"):
        if match := re.search(rf'name="{name}".*?<option value="(\w*)" selected>', html, re.S):
            fields[name] = match.group(1)
    fields.pop("csrfmiddlewaretoken", None)
    return fields


# -- edit a connector -------------------------------------------------------------------------


def edit_url(connector: AppProxyConnector) -> str:
    return f"/app-proxy/connectors/{connector.id}/edit/"


def test_edit_form_marks_reported_fields_and_offers_only_active_and_inactive(
    admin_client: Client, connector
) -> None:
    html = admin_client.get(edit_url(connector)).content.decode()
    assert html.count("reported by the connector</span></label>") == 2  # externalIp, status
    assert re.findall(r'<option value="(\w+)"', html) == ["active", "inactive"]


def test_edit_status_reviews_asks_to_confirm_the_override_then_patches_only_status(
    admin_client: Client, connector
) -> None:
    form = form_fields(admin_client.get(edit_url(connector)).content.decode())
    changed = {**form, "status": "inactive"}
    review = admin_client.post(edit_url(connector), changed).content.decode()
    assert 'data-testid="review"' in review and review.count('data-testid="change"') == 1
    assert "You are overriding values the connector reports itself" in review
    forget_graph_calls()
    refused = admin_client.post(edit_url(connector), {**changed, "step": "save"})
    assert refused.status_code == 400 and graph_calls() == []
    saved = admin_client.post(
        edit_url(connector),
        {**changed, "step": "save", "confirm_override": "on", "reason": "Server retired"},
    )
    assert (
        saved.status_code == 302 and saved["Location"] == f"/app-proxy/connectors/{connector.id}/"
    )
    assert [call.method for call in graph_calls()] == ["GET", "PATCH"]
    connector.refresh_from_db()
    assert connector.status == "inactive" and connector.external_ip == "203.0.113.10"
    [outcome] = outcomes(Action.APP_PROXY_CONNECTOR_UPDATE)
    assert outcome.before == {"status": "active"} and outcome.after == {"status": "inactive"}
    assert outcome.reason == "Server retired" and outcome.graph_status == 200


def test_ipv6_is_accepted_and_kept_as_graph_will_store_it(admin_client: Client, connector) -> None:
    form = form_fields(admin_client.get(edit_url(connector)).content.decode())
    admin_client.post(
        edit_url(connector),
        {**form, "externalIp": "2001:DB8:0::1", "step": "save", "confirm_override": "on"},
    )
    connector.refresh_from_db()
    assert connector.external_ip == "2001:db8::1"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("externalIp", "300.1.2.3", "Enter a valid IPv4 or IPv6 address"),
        ("externalIp", "10.0.0", "Enter a valid IPv4 or IPv6 address"),
        ("status", "String", "Select a valid choice"),
        ("status", "unknownFutureValue", "Select a valid choice"),
        ("machineName", "", "This field is required"),
        ("machineName", "bad name", "Enter a host name"),
    ],
)
def test_bad_input_is_a_field_error_keeps_the_input_and_sends_nothing(
    admin_client: Client, connector, field: str, value: str, message: str
) -> None:
    form = form_fields(admin_client.get(edit_url(connector)).content.decode())
    forget_graph_calls()
    response = admin_client.post(edit_url(connector), {**form, field: value})
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html and "field-invalid" in html
    if field != "status" and value:
        assert f'value="{value}"' in html
    assert graph_calls() == []


def test_a_change_in_graph_meanwhile_is_a_conflict_not_an_overwrite(
    admin_client: Client, connector
) -> None:
    form = form_fields(admin_client.get(edit_url(connector)).content.decode())
    AppProxyConnector.objects.filter(pk=connector.pk).update(machine_name="THEIRS.contoso.local")
    forget_graph_calls()
    response = admin_client.post(
        edit_url(connector), {**form, "machineName": "MINE.contoso.local", "step": "save"}
    )
    assert response.status_code == 409
    assert "THEIRS.contoso.local" in response.content.decode()
    assert [call.method for call in graph_calls()] == ["GET"]


def test_a_reason_is_required_when_configured(admin_client: Client, connector, settings) -> None:
    settings.AUDIT_REQUIRE_REASON = True
    form = form_fields(admin_client.get(edit_url(connector)).content.decode())
    forget_graph_calls()
    response = admin_client.post(
        edit_url(connector), {**form, "machineName": "NEW.contoso.local", "step": "save"}
    )
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    assert graph_calls() == []


def test_graph_failing_the_patch_shows_the_request_id_and_audits_the_failure(
    admin_client: Client, connector, sandbox_faults, settings
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    form = form_fields(admin_client.get(edit_url(connector)).content.decode())
    sandbox_faults.install({"method": "PATCH", "path": "/beta/onPremises*", "fault": "503"})
    response = admin_client.post(
        edit_url(connector), {**form, "machineName": "NEW.contoso.local", "step": "save"}
    )
    html = response.content.decode()
    assert response.status_code == 503
    assert "Graph is unavailable" in html and "Graph request id:" in html
    assert "may or may not have been applied" in html  # a 503 may come after the work
    [outcome] = outcomes()
    assert outcome.outcome == Outcome.UNKNOWN and outcome.graph_status == 503
    assert outcome.graph_request_id


def test_a_connector_deleted_meanwhile_is_a_404_and_nothing_is_patched(
    admin_client: Client, connector
) -> None:
    form = form_fields(admin_client.get(edit_url(connector)).content.decode())
    AppProxyConnector.objects.filter(pk=connector.pk).delete()
    forget_graph_calls()
    response = admin_client.post(
        edit_url(connector), {**form, "machineName": "NEW.contoso.local", "step": "save"}
    )
    assert response.status_code == 404 and "no such object" in response.content.decode()
    assert writes() == []


def test_limited_admin_gets_graphs_403_naming_the_permission(signed_in_client, connector) -> None:
    client = signed_in_client(LIMITED)
    response = client.get(edit_url(connector))
    assert response.status_code == 403
    assert "Directory.ReadWrite.All" in response.content.decode()


@pytest.mark.parametrize("fixture", ["operator_client", "reader_client"])
def test_only_admins_edit_move_and_manage_groups(request, fixture, connector, groups) -> None:
    client = request.getfixturevalue(fixture)
    forget_graph_calls()
    for url in (
        edit_url(connector),
        f"/app-proxy/connectors/{connector.id}/move/",
        "/app-proxy/groups/new/",
        f"/app-proxy/groups/{groups['empty'].id}/edit/",
        f"/app-proxy/groups/{groups['empty'].id}/delete/",
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, {"name": "X", "group": groups["east"].id}).status_code == 403
    assert graph_calls() == []


# -- move a connector -------------------------------------------------------------------------


def move_url(connector: AppProxyConnector) -> str:
    return f"/app-proxy/connectors/{connector.id}/move/"


def test_move_offers_only_application_proxy_groups_and_warns_when_one_would_be_left(
    admin_client: Client, connector, groups
) -> None:
    html = admin_client.get(move_url(connector), headers=HTMX).content.decode()
    assert "<html" not in html
    offered = re.findall(r'<option value="([\w-]+)"', html)
    assert groups["sync"].id not in offered and groups["default"].id not in offered
    assert set(offered) == {groups["east"].id, groups["empty"].id, groups["apps"].id}
    assert 'data-testid="move-warning"' in html
    assert "Default would be left with 1 active connector" in html


def test_move_posts_member_of_ref_and_the_grouped_view_updates_in_place(
    admin_client: Client, connector, groups, settings
) -> None:
    current = "http://testserver/app-proxy/connectors/?view=groups"
    dialog = admin_client.get(
        move_url(connector), headers={**HTMX, "HX-Current-URL": current}
    ).content.decode()
    fields = form_fields(dialog)
    assert fields["back"] == "view=groups"
    forget_graph_calls()
    response = admin_client.post(
        move_url(connector),
        {**fields, "group": groups["east"].id, "region_change": "on", "reason": "Balance"},
        headers={**HTMX, "HX-Current-URL": current},
    )
    html = response.content.decode()
    assert response.status_code == 200 and response["HX-Retarget"] == "#results"
    assert "dialog:close" in response["HX-Trigger"] and "Moved APPPROXY-A" in response["HX-Trigger"]
    [move] = writes()
    assert move.method == "POST" and move.path.endswith(f"/connectors/{connector.id}/memberOf/$ref")
    connector.refresh_from_db()
    assert connector.group_id == groups["east"].id
    east = html.split('data-group="East"')[1].split('data-testid="group" ')[0]
    default = html.split('data-group="Default"')[1].split('data-testid="group" ')[0]
    assert "2 active · 0 inactive" in east
    assert "1 active · 0 inactive" in default and "Fewer than 2 active" in default
    [outcome] = outcomes(Action.APP_PROXY_CONNECTOR_MOVE)
    assert outcome.before["memberOf"]["name"] == "Default"
    assert outcome.after["memberOf"] == {"id": groups["east"].id, "name": "East"}
    assert outcome.graph_status == 204 and outcome.reason == "Balance"


def test_a_move_from_a_stale_dialog_is_refused_and_nothing_is_sent(
    admin_client: Client, connector, groups
) -> None:
    """Two admins open the move dialog on the same state; the first moves the connector to East.
    The second's dialog still says Default: under the connector's lock the service reads Graph's
    memberOf, refuses, and sends nothing."""
    fields = form_fields(admin_client.get(move_url(connector)).content.decode())
    fields["region_change"] = "on"  # East serves Europe, Default has no region: confirmed
    first = admin_client.post(move_url(connector), {**fields, "group": groups["east"].id})
    assert first.status_code == 302
    forget_graph_calls()

    second = admin_client.post(move_url(connector), {**fields, "group": groups["empty"].id})

    assert second.status_code == 400
    assert "is now in East: someone moved it since this form was opened" in (
        second.content.decode()
    )
    assert writes() == []
    connector.refresh_from_db()
    assert connector.group_id == groups["east"].id
    assert len(outcomes(Action.APP_PROXY_CONNECTOR_MOVE)) == 1


def test_move_without_javascript_is_a_page_then_a_redirect(
    admin_client: Client, connector, groups
) -> None:
    page = admin_client.get(move_url(connector)).content.decode()
    assert "<html" in page and "Move APPPROXY-A.contoso.local to another group?" in page
    fields = form_fields(page)
    response = admin_client.post(move_url(connector), {**fields, "group": groups["empty"].id})
    assert (
        response.status_code == 302 and response["Location"] == "/app-proxy/connectors/?view=groups"
    )
    connector.refresh_from_db()
    assert connector.group_id == groups["empty"].id


def test_move_dialog_chooses_no_group_and_an_at_once_move_asks_for_one(
    admin_client: Client, connector, groups
) -> None:
    """Issue 13, item 5: opening the dialog and clicking Move at once moves nothing."""
    dialog = admin_client.get(move_url(connector), headers=HTMX).content.decode()
    assert '<option value="" selected>Choose a group…</option>' in dialog
    assert "East (Europe)" in dialog and "Spare (no region)" in dialog
    forget_graph_calls()
    response = admin_client.post(move_url(connector), form_fields(dialog), headers=HTMX)
    assert response.status_code == 422
    assert "Choose the group to move it to." in response.content.decode()
    assert graph_calls() == []
    connector.refresh_from_db()
    assert connector.group_id == groups["default"].id


def test_a_move_to_another_region_is_confirmed_first(
    admin_client: Client, connector, groups
) -> None:
    """Issue 13, item 5: Default (no region) → East (Europe) warns and asks for a tick."""
    fields = {**form_fields(admin_client.get(move_url(connector)).content.decode())}
    forget_graph_calls()
    first = admin_client.post(move_url(connector), {**fields, "group": groups["east"].id})
    html = first.content.decode()
    assert first.status_code == 400 and 'data-testid="region-warning"' in html
    assert "East serves Europe; Default has no region set." in html
    assert "Tick to confirm." in html
    assert graph_calls() == []
    confirmed = admin_client.post(
        move_url(connector), {**fields, "group": groups["east"].id, "region_change": "on"}
    )
    assert confirmed.status_code == 302
    connector.refresh_from_db()
    assert connector.group_id == groups["east"].id


@pytest.mark.parametrize("target", ["sync", "default", "unknown"])
def test_moving_to_a_group_not_offered_is_a_400_field_error_and_nothing_is_sent(
    admin_client: Client, connector, groups, target: str
) -> None:
    fields = form_fields(admin_client.get(move_url(connector)).content.decode())
    group_id = groups[target].id if target in groups else "00000000-0000-0000-0000-00000000dead"
    forget_graph_calls()
    response = admin_client.post(move_url(connector), {**fields, "group": group_id})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert graph_calls() == []
    connector.refresh_from_db()
    assert connector.group_id == groups["default"].id


def test_a_forged_offer_is_refused_and_nothing_is_sent(
    admin_client: Client, connector, groups
) -> None:
    fields = form_fields(admin_client.get(move_url(connector)).content.decode())
    forget_graph_calls()
    response = admin_client.post(
        move_url(connector),
        {**fields, "offer": fields["offer"][:-3] + "abc", "group": groups["east"].id},
    )
    assert response.status_code == 400
    assert "does not belong to this connector" in response.content.decode()
    assert graph_calls() == []


def test_a_move_graph_refuses_is_audited_as_failed(
    admin_client: Client, connector, groups, sandbox_faults
) -> None:
    fields = form_fields(admin_client.get(move_url(connector)).content.decode())
    ConnectorGroup.objects.filter(pk=groups["east"].pk).update(
        connector_group_type=factories.FUTURE_GROUP_TYPE
    )
    response = admin_client.post(
        move_url(connector), {**fields, "group": groups["east"].id, "region_change": "on"}
    )
    assert response.status_code == 400
    assert "can only be moved to applicationProxy groups" in response.content.decode()
    [outcome] = outcomes(Action.APP_PROXY_CONNECTOR_MOVE)
    assert outcome.outcome == Outcome.FAILED and outcome.graph_code == "Request_BadRequest"


def test_a_move_that_times_out_is_outcome_unknown_and_not_retried(
    admin_client: Client, connector, groups, sandbox_faults, settings
) -> None:
    settings.OUTBOUND_TIMEOUT_SECONDS = 0.2
    fields = form_fields(admin_client.get(move_url(connector)).content.decode())
    sandbox_faults.install(
        {"method": "POST", "path": "/beta/onPremises*/$ref", "fault": "delay", "seconds": 5}
    )
    forget_graph_calls()
    response = admin_client.post(
        move_url(connector), {**fields, "group": groups["east"].id, "region_change": "on"}
    )
    assert response.status_code == 504
    assert [outcome.outcome for outcome in outcomes()] == [Outcome.UNKNOWN]
    assert len(writes()) == 1


# -- connector groups -------------------------------------------------------------------------


def test_groups_page_shows_region_default_and_member_count(
    admin_client: Client, connector, groups
) -> None:
    html = admin_client.get("/app-proxy/groups/").content.decode()
    default = html.split('data-group="Default"')[1].split("</tr>")[0]
    assert (
        'data-testid="default"' in default
        and 'data-testid="member-count" data-label="Members">2</td>' in default
    )
    east = html.split('data-group="East"')[1].split("</tr>")[0]
    assert "Europe" in east and 'data-testid="member-count" data-label="Members">1</td>' in east
    assert "Cannot delete" in default and ">Delete<" in html.split('data-group="Spare"')[1]


def test_create_group_with_region(admin_client: Client) -> None:
    html = admin_client.get("/app-proxy/groups/new/").content.decode()
    assert "unknownFutureValue" not in html and '<option value="eur">Europe</option>' in html
    response = admin_client.post("/app-proxy/groups/new/", {"name": "Sydney", "region": "aus"})
    assert response.status_code == 302
    created = ConnectorGroup.objects.get(name="Sydney")
    assert created.region == "aus"
    [outcome] = outcomes(Action.CONNECTOR_GROUP_CREATE)
    assert outcome.target_id == created.id and outcome.graph_status == 201


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "region": "eur"}, "This field is required"),
        ({"name": "x" * 129, "region": "eur"}, "at most 128 characters"),
        ({"name": "Paris", "region": "unknownFutureValue"}, "Select a valid choice"),
        ({"name": "Paris", "region": "mars"}, "Select a valid choice"),
    ],
)
def test_bad_group_input_is_a_field_error_and_nothing_is_sent(
    admin_client: Client, data, message
) -> None:
    forget_graph_calls()
    response = admin_client.post("/app-proxy/groups/new/", data)
    html = response.content.decode()
    assert response.status_code == 400 and message in html
    if data["name"]:
        assert f'value="{data["name"]}"' in html
    assert graph_calls() == []


def test_rename_a_group_through_review(admin_client: Client, groups) -> None:
    url = f"/app-proxy/groups/{groups['east'].id}/edit/"
    fields = form_fields(admin_client.get(url).content.decode())
    review = admin_client.post(url, {**fields, "name": "East 2"}).content.decode()
    assert 'data-testid="review"' in review
    saved = admin_client.post(url, {**fields, "name": "East 2", "step": "save"})
    assert saved.status_code == 302
    groups["east"].refresh_from_db()
    assert groups["east"].name == "East 2"
    [outcome] = outcomes(Action.CONNECTOR_GROUP_UPDATE)
    assert outcome.before == {"name": "East"} and outcome.after == {"name": "East 2"}


def test_change_region_of_an_empty_group(admin_client: Client, groups) -> None:
    url = f"/app-proxy/groups/{groups['empty'].id}/edit/"
    fields = form_fields(admin_client.get(url).content.decode())
    admin_client.post(url, {**fields, "region": "asia", "step": "save"})
    groups["empty"].refresh_from_db()
    assert groups["empty"].region == "asia"


@pytest.mark.parametrize("group", ["east", "apps"])
def test_region_change_on_a_group_in_use_is_disabled_with_the_reason_and_refused(
    admin_client: Client, connector, groups, group: str
) -> None:
    url = f"/app-proxy/groups/{groups[group].id}/edit/"
    html = admin_client.get(url).content.decode()
    assert "can be changed only while the group has no connectors and no applications" in html
    assert re.search(r'<select name="region"[^>]*disabled', html)
    fields = form_fields(html)
    forget_graph_calls()
    response = admin_client.post(url, {**fields, "region": "ind", "step": "save"})
    assert response.status_code == 400
    assert "can be changed only while the group has no connectors" in response.content.decode()
    assert graph_calls() == []


def test_delete_an_empty_group(admin_client: Client, groups) -> None:
    url = f"/app-proxy/groups/{groups['empty'].id}/delete/"
    confirm = admin_client.get(url, headers=HTMX).content.decode()
    assert "Delete connector group Spare?" in confirm and "<html" not in confirm
    response = admin_client.post(url, {"reason": "Unused"})
    assert response.status_code == 302
    assert not ConnectorGroup.objects.filter(pk=groups["empty"].pk).exists()
    [outcome] = outcomes(Action.CONNECTOR_GROUP_DELETE)
    assert outcome.graph_status == 204 and outcome.before["name"] == "Spare"


@pytest.mark.parametrize(
    ("group", "reason"),
    [
        ("default", "default group: it cannot be deleted"),
        ("east", "Only an empty group can be deleted; this one has 1 connector"),
        ("apps", "0 connectors and 2 applications"),
    ],
)
def test_deleting_a_default_or_non_empty_group_shows_why_and_sends_nothing(
    admin_client: Client, connector, groups, group: str, reason: str
) -> None:
    url = f"/app-proxy/groups/{groups[group].id}/delete/"
    assert reason in admin_client.get(url).content.decode()
    forget_graph_calls()
    response = admin_client.post(url)
    assert response.status_code == 409 and reason in response.content.decode()
    assert writes() == []
    assert ConnectorGroup.objects.filter(pk=groups[group].pk).exists()


def test_a_group_that_no_longer_exists_is_a_404(admin_client: Client) -> None:
    response = admin_client.get("/app-proxy/groups/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404 and "no such object" in response.content.decode()

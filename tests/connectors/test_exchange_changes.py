"""Creating, editing (review, override, conflict) and deleting Exchange connectors."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry, Outcome, Phase
from sandbox.models import ExchangeConnector
from tests.conftest import LIMITED
from tests.connectors.support import forget_graph_calls, graph_calls
from tests.sandbox import factories

pytestmark = pytest.mark.django_db
NEW = "/exchange-connectors/new/"

VALID = {
    "serverName": "EXCH-NEW01.contoso.local",
    "connectorServerName": "ICS-NEW01.contoso.local",
    "exchangeConnectorType": "onPremises",
    "status": "connectionPending",
    "lastSyncDateTime": "",
    "primarySmtpAddress": "intune@contoso.com",
    "version": "15.2.1118.7",
    "exchangeAlias": "intune-new",
    "exchangeOrganization": "Contoso",
}


@pytest.fixture
def connector() -> ExchangeConnector:
    return factories.exchange_connector(
        server_name="EXCH-EDIT.contoso.local",
        status="connected",
        last_sync=timezone.now() - timedelta(hours=1),
        version="15.2.1118.7",
    )


def edit_url(connector: ExchangeConnector) -> str:
    return f"/exchange-connectors/{connector.id}/edit/"


def open_form(client: Client, connector: ExchangeConnector) -> dict[str, str]:
    """The edit form's fields as the browser would submit them unchanged."""
    html = client.get(edit_url(connector)).content.decode()
    fields = dict(
        re.findall(
            r'<input type="(?:text|email|hidden|datetime-local)" name="(\w+)" value="([^"]*)"', html
        )
    )
    for name in ("status", "exchangeConnectorType"):
        fields[name] = re.search(
            rf'name="{name}".*?<option value="(\w+)" selected>', html, re.S
        ).group(1)
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def outcomes() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(phase=Phase.OUTCOME).order_by("id"))


# -- create ---------------------------------------------------------------------------------------


def test_create_goes_to_the_new_connector_with_a_toast_and_an_audit_entry(
    admin_client: Client,
) -> None:
    response = admin_client.post(NEW, VALID, follow=True)
    assert response.status_code == 200
    created = ExchangeConnector.objects.get(server_name="EXCH-NEW01.contoso.local")
    assert response.redirect_chain[-1][0] == f"/exchange-connectors/{created.id}/"
    assert "Created Exchange connector EXCH-NEW01.contoso.local." in response.content.decode()
    assert (
        created.status == "connectionPending"
        and created.primary_smtp_address == "intune@contoso.com"
    )
    [outcome] = outcomes()
    assert outcome.outcome == Outcome.SUCCEEDED and outcome.graph_status == 201
    assert outcome.target_id == created.id
    assert outcome.after["serverName"] == "EXCH-NEW01.contoso.local"


def test_create_form_never_offers_unknown_future_value(admin_client: Client) -> None:
    html = admin_client.get(NEW).content.decode()
    assert "unknownFutureValue" not in html
    assert '<option value="connectionPending">' in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("status", "String", "Select a valid choice"),
        ("status", "unknownFutureValue", "Select a valid choice"),
        ("exchangeConnectorType", "cloud", "Select a valid choice"),
        ("primarySmtpAddress", "not-an-address", "Enter a valid email address"),
        ("lastSyncDateTime", "yesterday-ish", "Enter a valid date/time"),
        ("lastSyncDateTime", "2999-01-01T00:00", "cannot be in the future"),
        ("serverName", "x" * 256, "at most 255 characters"),
        ("serverName", "", "This field is required"),
        ("serverName", "exch 01", "Enter a host name"),
        ("version", "v15", "Enter a version"),
        ("exchangeAlias", "has space", "An alias has no spaces"),
    ],
)
def test_bad_input_is_a_field_error_keeps_the_input_and_sends_nothing(
    admin_client: Client, field: str, value: str, message: str
) -> None:
    forget_graph_calls()
    response = admin_client.post(NEW, {**VALID, field: value})
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert 'class="field field-invalid"' in html
    assert 'value="intune@contoso.com"' in html or field == "primarySmtpAddress"
    if field in {"primarySmtpAddress", "serverName"} and value:
        assert f'value="{value}"' in html
    assert graph_calls() == []
    assert not ExchangeConnector.objects.filter(server_name="EXCH-NEW01.contoso.local").exists()


def test_operator_and_reader_may_not_create(operator_client: Client, reader_client: Client) -> None:
    for client in (operator_client, reader_client):
        assert client.get(NEW).status_code == 403
        assert client.post(NEW, VALID).status_code == 403
    assert not ExchangeConnector.objects.exists()


# -- edit -----------------------------------------------------------------------------------------


def test_edit_reviews_then_patches_only_the_changed_field(admin_client: Client, connector) -> None:
    form = open_form(admin_client, connector)
    review = admin_client.post(
        edit_url(connector), {**form, "primarySmtpAddress": "new@contoso.com"}
    )
    html = review.content.decode()
    assert review.status_code == 200 and 'data-testid="review"' in html
    assert html.count('data-testid="change"') == 1
    assert "intune-connector@contoso.com" in html and "new@contoso.com" in html
    assert ExchangeConnector.objects.get(pk=connector.pk).primary_smtp_address != "new@contoso.com"

    forget_graph_calls()
    saved = admin_client.post(
        edit_url(connector),
        {
            **form,
            "primarySmtpAddress": "new@contoso.com",
            "step": "save",
            "reason": "Mailbox renamed",
        },
    )
    assert saved.status_code == 302 and saved["Location"] == f"/exchange-connectors/{connector.id}/"
    assert [(call.method, call.path.rsplit("/", 1)[-1]) for call in graph_calls()] == [
        ("GET", connector.id),
        ("PATCH", connector.id),
    ]
    connector.refresh_from_db()
    assert connector.primary_smtp_address == "new@contoso.com"
    [outcome] = outcomes()
    assert outcome.before == {"primarySmtpAddress": "intune-connector@contoso.com"}
    assert outcome.after == {"primarySmtpAddress": "new@contoso.com"}
    assert outcome.reason == "Mailbox renamed" and outcome.graph_status == 200


def test_nothing_changed_is_said_and_nothing_sent(admin_client: Client, connector) -> None:
    form = open_form(admin_client, connector)
    forget_graph_calls()
    response = admin_client.post(edit_url(connector), {**form, "step": "save"})
    assert response.status_code == 400
    assert "Nothing changed" in response.content.decode()
    assert graph_calls() == []


def test_overriding_a_value_the_connector_reports_needs_confirmation(
    admin_client: Client, connector
) -> None:
    form = open_form(admin_client, connector)
    changed = {**form, "status": "disconnected"}
    review = admin_client.post(edit_url(connector), changed).content.decode()
    assert "You are overriding values the connector reports itself" in review
    forget_graph_calls()
    refused = admin_client.post(edit_url(connector), {**changed, "step": "save"})
    assert refused.status_code == 400
    assert "Tick the box to confirm" in refused.content.decode()
    assert graph_calls() == []
    saved = admin_client.post(
        edit_url(connector), {**changed, "step": "save", "confirm_override": "on"}
    )
    assert saved.status_code == 302
    connector.refresh_from_db()
    assert connector.status == "disconnected"


def test_a_reason_is_required_when_configured(admin_client: Client, connector, settings) -> None:
    settings.AUDIT_REQUIRE_REASON = True
    form = open_form(admin_client, connector)
    forget_graph_calls()
    response = admin_client.post(
        edit_url(connector), {**form, "exchangeOrganization": "Northwind", "step": "save"}
    )
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert graph_calls() == []


def test_bad_input_on_edit_keeps_the_input(admin_client: Client, connector) -> None:
    form = open_form(admin_client, connector)
    forget_graph_calls()
    response = admin_client.post(edit_url(connector), {**form, "primarySmtpAddress": "nope@"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid email address" in html and 'value="nope@"' in html
    assert graph_calls() == []


def test_a_change_in_graph_meanwhile_is_shown_instead_of_overwritten(
    admin_client: Client, connector
) -> None:
    form = open_form(admin_client, connector)
    # Another admin changes the same field in Graph after this form was opened.
    ExchangeConnector.objects.filter(pk=connector.pk).update(
        primary_smtp_address="theirs@contoso.com"
    )
    forget_graph_calls()
    response = admin_client.post(
        edit_url(connector), {**form, "primarySmtpAddress": "mine@contoso.com", "step": "save"}
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "changed in Graph since you opened the form" in html
    assert "theirs@contoso.com" in html and "mine@contoso.com" in html
    assert [call.method for call in graph_calls()] == ["GET"]
    connector.refresh_from_db()
    assert connector.primary_smtp_address == "theirs@contoso.com"


def test_a_form_signed_for_another_connector_is_refused(admin_client: Client, connector) -> None:
    other = factories.exchange_connector(server_name="EXCH-OTHER.contoso.local")
    form = open_form(admin_client, other)
    forget_graph_calls()
    response = admin_client.post(
        edit_url(connector), {**form, "exchangeOrganization": "Forged", "step": "save"}
    )
    assert response.status_code == 400
    assert "does not belong to this connector" in response.content.decode()
    assert graph_calls() == []


def test_inline_edit_swaps_the_row(admin_client: Client, connector) -> None:
    # htmx targets the row (`hx-target="closest tr"`): the answer is the row, picked by target.
    htmx = {"HX-Request": "true", "HX-Target": f"row-{connector.id}"}
    editor = admin_client.get(edit_url(connector), headers=htmx).content.decode()
    assert editor.lstrip().startswith(f'<tr id="row-{connector.id}" class="row-editing"')
    form = open_form(admin_client, connector)
    review = admin_client.post(
        edit_url(connector),
        {**form, "exchangeOrganization": "Northwind"},
        headers=htmx,
    ).content.decode()
    assert review.lstrip().startswith("<tr") and 'data-testid="review"' in review
    saved = admin_client.post(
        edit_url(connector),
        {**form, "exchangeOrganization": "Northwind", "step": "save"},
        headers=htmx,
    )
    assert saved.status_code == 200
    assert (
        saved.content.decode().lstrip().startswith(f'<tr id="row-{connector.id}" data-testid="row"')
    )
    assert "Saved EXCH-EDIT.contoso.local" in saved["HX-Trigger"]


def test_graph_refusing_the_edit_shows_the_missing_permission_and_audits_the_failure(
    signed_in_client, connector
) -> None:
    client = signed_in_client(LIMITED)
    form = open_form(client, connector)
    response = client.post(
        edit_url(connector), {**form, "exchangeOrganization": "X", "step": "save"}
    )
    html = response.content.decode()
    assert response.status_code == 403
    # Intune's 403 read down to what the admin needs: the permission, and the ids for support.
    assert "your account lacks DeviceManagementServiceConfig.ReadWrite.All" in html
    assert re.search(r"Graph request id: [0-9a-f-]{36}\. Operation ID: [0-9a-f-]{36}\.", html)
    assert "_version" not in html and "CustomApiErrorPhrase" not in html
    [outcome] = outcomes()
    assert outcome.outcome == Outcome.FAILED and outcome.graph_status == 403
    assert outcome.graph_code == "Forbidden" and outcome.graph_request_id


def test_a_patch_that_times_out_is_outcome_unknown_and_not_retried(
    admin_client: Client, connector, sandbox_faults, settings
) -> None:
    settings.OUTBOUND_TIMEOUT_SECONDS = 0.2
    form = open_form(admin_client, connector)
    sandbox_faults.install(
        {"method": "PATCH", "path": "/beta/deviceManagement/*", "fault": "delay", "seconds": 5}
    )
    forget_graph_calls()
    response = admin_client.post(
        edit_url(connector), {**form, "exchangeOrganization": "Slow", "step": "save"}
    )
    assert response.status_code == 504
    assert "may or may not have been applied" in response.content.decode()
    assert [outcome.outcome for outcome in outcomes()] == [Outcome.UNKNOWN]
    # One PATCH, never retried: a write that timed out may have been applied.
    assert [call.method for call in graph_calls()] == ["GET", "PATCH"]


def test_throttling_past_the_bound_says_when_to_try_again(
    admin_client: Client, connector, sandbox_faults, settings
) -> None:
    settings.GRAPH_REQUEST_DEADLINE_SECONDS = 1
    form = open_form(admin_client, connector)
    sandbox_faults.install({"method": "PATCH", "path": "/beta/*", "fault": "429", "retry_after": 7})
    response = admin_client.post(
        edit_url(connector), {**form, "exchangeOrganization": "Busy", "step": "save"}
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    assert "Try again in 7 seconds" in response.content.decode()
    [outcome] = outcomes()
    assert outcome.outcome == Outcome.FAILED and outcome.graph_status == 429


def test_editing_a_connector_that_no_longer_exists_is_a_404_page(admin_client: Client) -> None:
    response = admin_client.get("/exchange-connectors/00000000-0000-0000-0000-000000000000/edit/")
    assert response.status_code == 404
    assert "no such object" in response.content.decode()


def test_operator_may_not_edit(operator_client: Client, connector) -> None:
    assert operator_client.get(edit_url(connector)).status_code == 403
    assert operator_client.post(edit_url(connector), {"status": "none"}).status_code == 403


# -- delete ---------------------------------------------------------------------------------------


def test_delete_confirms_naming_the_connector_then_deletes(admin_client: Client, connector) -> None:
    url = f"/exchange-connectors/{connector.id}/delete/"
    confirm = admin_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "Delete Exchange connector EXCH-EDIT.contoso.local?" in confirm
    assert "<html" not in confirm
    response = admin_client.post(url, {"reason": "Decommissioned"}, follow=True)
    assert "Deleted Exchange connector EXCH-EDIT.contoso.local." in response.content.decode()
    assert not ExchangeConnector.objects.filter(pk=connector.pk).exists()
    [outcome] = outcomes()
    assert outcome.graph_status == 204 and outcome.before["serverName"] == "EXCH-EDIT.contoso.local"
    assert outcome.reason == "Decommissioned"


def test_delete_needs_post_and_the_admin_role(operator_client: Client, connector) -> None:
    url = f"/exchange-connectors/{connector.id}/delete/"
    assert operator_client.post(url).status_code == 403
    assert ExchangeConnector.objects.filter(pk=connector.pk).exists()

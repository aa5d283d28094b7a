"""The alerts pages: the incident list (filters, sort, pages, CSV), an incident with its timeline,
acknowledge and snooze (roles, htmx, 422 on bad input), the rules page, the overview's card."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry
from tests.conftest import ADMIN, OPERATOR
from tests.watch.alerting import TENANT, exchange, group, sweep
from watch import incidents
from watch.models import AlertRuleSetting, Incident
from watch.observations import ObjectKind, Observation

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "incident-live"}


def open_group_incident(object_id: str = "g1", name: str = "Europe", start: int = 1) -> Incident:
    incidents.evaluate(sweep(start, group("down", object_id, name)))
    incidents.evaluate(sweep(start + 1, group("down", object_id, name)))
    return Incident.objects.get(object_id=object_id, state="open")


@pytest.fixture
def outage(db: None) -> Incident:
    return open_group_incident()


def test_the_list_shows_open_incidents_of_every_tenant(
    outage: Incident, reader_client: Client
) -> None:
    other = "99999999-2222-3333-4444-555555555555"
    for number in (1, 2):
        incidents.evaluate(
            sweep(
                number,
                Observation(other, ObjectKind.TENANT, other, "Fabrikam", "unreachable"),
                tenant=other,
            )
        )
    # Pending (one sweep so far): not shown.
    incidents.evaluate(sweep(3, group("down"), group("at_risk", "g2", "Pending")))

    page = reader_client.get("/watch/alerts/").content.decode()

    assert "its applications are down" in page
    assert "Fabrikam could not be read" in page
    assert "Pending" not in page
    assert "2 incidents" in page


def test_filters_narrow_the_list_and_bad_values_say_which(
    outage: Incident, reader_client: Client
) -> None:
    assert "1 incident" in reader_client.get("/watch/alerts/?severity=critical").content.decode()
    assert "0 incidents" in reader_client.get("/watch/alerts/?severity=warning").content.decode()
    assert "0 incidents" in reader_client.get("/watch/alerts/?state=resolved").content.decode()
    rule = reader_client.get("/watch/alerts/?rule=group_below_two").content.decode()
    assert "1 incident" in rule

    bad = reader_client.get("/watch/alerts/?severity=apocalyptic&rule=nope&sort=size")
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "Severity: Select a valid choice" in text and "apocalyptic" in text
    assert "Rule: Select a valid choice" in text
    htmx = reader_client.get("/watch/alerts/?state=everything", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 422
    assert "State: Select a valid choice" in htmx.content.decode()
    assert "<html" not in htmx.content.decode()


def test_sort_and_paging(db: None, reader_client: Client) -> None:
    groups = [group("down", f"g{index}", f"Group {index}") for index in range(3)]
    incidents.evaluate(sweep(1, *groups))
    incidents.evaluate(sweep(2, *groups))
    Incident.objects.filter(object_id="g0").update(severity="warning")

    page = reader_client.get("/watch/alerts/?sort=severity").content.decode()
    assert page.index("Group 1") < page.index("Group 0")  # critical first

    page = reader_client.get("/watch/alerts/?sort=-object").content.decode()
    assert page.index("Group 2") < page.index("Group 1") < page.index("Group 0")
    beyond = reader_client.get("/watch/alerts/?page=9")
    assert beyond.status_code == 200 and "There is no page 9" in beyond.content.decode()


def test_csv_holds_every_matching_incident(outage: Incident, reader_client: Client) -> None:
    response = reader_client.get("/watch/alerts/?format=csv")

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["rule"], r["severity"], r["object"], r["state"]) for r in rows] == [
        ("group_below_two", "critical", "Europe", "open")
    ]


def test_the_incident_page_shows_its_timeline(outage: Incident, reader_client: Client) -> None:
    page = reader_client.get(f"/watch/alerts/{outage.pk}/").content.decode()

    assert "Connector group below two active connectors" in page
    assert "Opened after 2 sweeps" in page
    assert "Acknowledge" not in page  # a Reader cannot act
    assert reader_client.get("/watch/alerts/999999/").status_code == 404


def test_an_operator_acknowledges_with_htmx(outage: Incident, operator_client: Client) -> None:
    response = operator_client.post(
        f"/watch/alerts/{outage.pk}/acknowledge/", {"note": "on it"}, **HTMX
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert f"acknowledged by {OPERATOR}" in text and "<html" not in text
    outage.refresh_from_db()
    assert outage.acknowledged_by == OPERATOR
    assert AuditEntry.objects.get().action == "incident.acknowledge"


def test_snooze_refuses_bad_times_and_keeps_what_was_typed(
    outage: Incident, operator_client: Client
) -> None:
    url = f"/watch/alerts/{outage.pk}/snooze/"
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    far = (timezone.localtime() + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M")
    for value, message in [
        ("", "This field is required."),
        ("tomorrow-ish", "Enter a valid date/time."),
        (past, "Pick a time in the future."),
        (far, "Snooze for at most 30 days."),
    ]:
        response = operator_client.post(url, {"until": value, "note": "maintenance"}, **HTMX)
        assert response.status_code == 422, value
        text = response.content.decode()
        assert message in text, value
        assert 'value="maintenance"' in text
    plain = operator_client.post(url, {"until": "soon"})
    assert plain.status_code == 400
    outage.refresh_from_db()
    assert outage.snoozed_until is None
    assert not AuditEntry.objects.exists()

    note = "x" * 501
    response = operator_client.post(
        f"/watch/alerts/{outage.pk}/acknowledge/", {"note": note}, **HTMX
    )
    assert response.status_code == 422
    assert "Ensure this value has at most 500 characters" in response.content.decode()


def test_snooze_mutes_the_overview_count(outage: Incident, operator_client: Client) -> None:
    until = (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = operator_client.post(f"/watch/alerts/{outage.pk}/snooze/", {"until": until})
    assert response.status_code == 302

    outage.refresh_from_db()
    assert outage.snoozed and outage.snoozed_by == OPERATOR
    overview = operator_client.get("/").content.decode()
    assert "Snoozed: 1" in overview
    assert "Nothing needs attention." in overview


def test_a_reader_cannot_acknowledge(outage: Incident, reader_client: Client) -> None:
    response = reader_client.post(f"/watch/alerts/{outage.pk}/acknowledge/", {})
    assert response.status_code == 403
    outage.refresh_from_db()
    assert outage.acknowledged_at is None


def test_acknowledging_a_resolved_incident_is_refused(
    outage: Incident, operator_client: Client
) -> None:
    incidents.evaluate(sweep(3, group("ok")))
    response = operator_client.post(f"/watch/alerts/{outage.pk}/acknowledge/", {}, **HTMX)
    assert response.status_code == 409
    assert not AuditEntry.objects.exists()


def test_the_overview_counts_open_incidents(outage: Incident, reader_client: Client) -> None:
    incidents.evaluate(sweep(3, group("down"), exchange(status="disconnected")))
    incidents.evaluate(sweep(4, group("down"), exchange(status="disconnected")))

    page = reader_client.get("/").content.decode()

    assert 'data-testid="alerts-card"' in page
    assert "EXCH01 is disconnected" in page
    assert f'href="/watch/alerts/{outage.pk}/"' in page


def test_an_admin_overrides_a_rule_for_a_tenant(db: None, admin_client: Client) -> None:
    response = admin_client.post(
        "/watch/alerts/rules/save/",
        {"rule": "group_below_two", "tenant": "", "enabled": "off", "consecutive": "4"},
    )
    assert response.status_code == 302
    setting = AlertRuleSetting.objects.get()
    assert (setting.enabled, setting.consecutive, setting.updated_by) == (False, 4, ADMIN)
    assert AuditEntry.objects.get().action == "alertRule.update"
    page = admin_client.get("/watch/alerts/rules/").content.decode()
    row = page[page.index('data-rule="group_below_two"') :]
    row = row[: row.index("</tr>")]
    assert "Off" in row and "Every tenant:" in row and "4 in a row" in row and "Remove" in row

    admin_client.post("/watch/alerts/rules/reset/", {"rule": "group_below_two", "tenant": ""})
    assert not AlertRuleSetting.objects.exists()
    assert AuditEntry.objects.order_by("-id").first().action == "alertRule.reset"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rule", "", "This field is required."),
        ("rule", "everything_is_fine", "Select a valid choice."),
        ("tenant", "not-a-tenant", "Select a valid choice."),
        ("enabled", "maybe", "Select a valid choice."),
        ("consecutive", "0", "Ensure this value is greater than or equal to 1."),
        ("consecutive", "51", "Ensure this value is less than or equal to 50."),
        ("consecutive", "two", "Enter a whole number."),
        ("severity", "apocalyptic", "Select a valid choice."),
    ],
)
def test_the_rule_form_refuses_bad_values(
    db: None, admin_client: Client, field: str, value: str, message: str
) -> None:
    data = {"rule": "app_proxy_inactive", "tenant": "", "consecutive": "3", field: value}
    response = admin_client.post("/watch/alerts/rules/save/", data)

    assert response.status_code == 400
    text = response.content.decode()
    assert message in text
    assert "nothing was saved" in text
    assert not AlertRuleSetting.objects.exists()
    assert not AuditEntry.objects.exists()


def test_only_an_admin_edits_rules(db: None, operator_client: Client) -> None:
    response = operator_client.post(
        "/watch/alerts/rules/save/", {"rule": "app_proxy_inactive", "enabled": "off"}
    )
    assert response.status_code == 403
    assert not AlertRuleSetting.objects.exists()
    assert "Set an override" not in operator_client.get("/watch/alerts/rules/").content.decode()


def test_a_tenant_override_is_offered_for_managed_tenants(db: None, admin_client: Client) -> None:
    admin_client.get("/tenants/")  # the home tenant becomes a managed tenant
    page = admin_client.get("/watch/alerts/rules/").content.decode()
    assert "Every tenant" in page
    assert TENANT not in page

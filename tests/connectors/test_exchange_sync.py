"""Syncing Exchange connectors: the request, its verification by polling, and bulk syncs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry, Outcome, Phase
from sandbox.models import ExchangeConnector, RefreshToken
from tests.conftest import ADMIN
from tests.connectors.support import forget_graph_calls, graph_calls
from tests.sandbox import factories

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def connector(settings) -> ExchangeConnector:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 0
    return factories.exchange_connector(
        server_name="EXCH-SYNC.contoso.local", last_sync=timezone.now() - timedelta(days=2)
    )


def sync(client: Client, connector: ExchangeConnector, sync_type: str = "deltaSync", **kw):
    return client.post(f"/exchange-connectors/{connector.id}/sync/", {"sync_type": sync_type}, **kw)


def poll(client: Client, connector: ExchangeConnector, requested_at: str):
    return client.get(
        f"/exchange-connectors/{connector.id}/sync-status/",
        {"requested_at": requested_at, "sync_type": "deltaSync"},
        headers=HTMX,
    )


def requested_at_in(html: str) -> str:
    from urllib.parse import unquote

    return unquote(html.split("requested_at=")[1].split("&")[0])


def test_quick_sync_row_shows_the_request_and_polls_every_three_seconds(
    operator_client: Client, connector, settings
) -> None:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 60
    response = sync(operator_client, connector, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="row-{connector.id}"')
    assert "Sync requested " in html and 'hx-trigger="every 3s"' in html
    still = poll(operator_client, connector, requested_at_in(html))
    assert still.status_code == 200 and "Sync requested" in still.content.decode()
    [outcome] = AuditEntry.objects.filter(phase=Phase.OUTCOME)
    assert outcome.action == "exchangeConnector.sync" and outcome.outcome == Outcome.SUCCEEDED
    assert outcome.graph_status == 204 and outcome.after == {"syncType": "deltaSync"}


def test_polling_stops_with_286_and_synced_once_the_sync_lands(
    operator_client: Client, connector
) -> None:
    html = sync(operator_client, connector, headers=HTMX).content.decode()
    landed = poll(operator_client, connector, requested_at_in(html))
    assert landed.status_code == 286
    assert ">Synced<" in landed.content.decode()
    assert "hx-trigger" not in landed.content.decode()


def test_a_sync_that_never_lands_says_what_to_check(operator_client: Client, settings) -> None:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 0
    settings.SYNC_VERIFY_TIMEOUT_SECONDS = 60
    broken = factories.exchange_connector(
        server_name="EXCH-BROKEN.contoso.local",
        sync_broken=True,
        status="disconnected",
        connector_server_name="ICS-BROKEN.contoso.local",
        last_sync=timezone.now() - timedelta(days=4),
    )
    html = sync(operator_client, broken, headers=HTMX).content.decode()
    assert poll(operator_client, broken, requested_at_in(html)).status_code == 200
    long_ago = (timezone.now() - timedelta(minutes=5)).isoformat()
    gave_up = poll(operator_client, broken, long_ago)
    text = gave_up.content.decode()
    assert gave_up.status_code == 286
    assert "No sync seen" in text and "ICS-BROKEN.contoso.local" in text


def test_sync_without_javascript_goes_to_the_detail_page_which_tells_the_outcome(
    operator_client: Client, connector
) -> None:
    response = sync(operator_client, connector, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/exchange-connectors/{connector.id}/"
    assert "Quick sync of EXCH-SYNC.contoso.local requested at" in html
    assert ">Synced<" in html and ">Yes<" in html


def test_full_sync_asks_for_confirmation_first(operator_client: Client, connector) -> None:
    confirm = operator_client.get(
        f"/exchange-connectors/{connector.id}/sync/", {"sync_type": "fullSync"}
    ).content.decode()
    assert "Full sync of EXCH-SYNC.contoso.local?" in confirm
    assert 'name="sync_type" value="fullSync"' in confirm
    forget_graph_calls()
    sync(operator_client, connector, "fullSync")
    [call] = graph_calls("POST")
    assert call.path.endswith(f"{connector.id}/sync")


@pytest.mark.parametrize("sync_type", ["", "turboSync", "unknownFutureValue"])
def test_an_unknown_sync_type_is_refused_before_graph(
    operator_client: Client, connector, sync_type
) -> None:
    forget_graph_calls()
    response = sync(operator_client, connector, sync_type)
    assert response.status_code == 400
    assert graph_calls("POST") == []


def test_reader_may_not_sync(reader_client: Client, connector) -> None:
    assert sync(reader_client, connector).status_code == 403
    assert (
        reader_client.post(
            "/exchange-connectors/sync/", {"ids": [connector.id], "sync_type": "deltaSync"}
        ).status_code
        == 403
    )
    assert not AuditEntry.objects.exists()


def test_bulk_sync_of_45_connectors_takes_3_batch_calls_with_each_rows_outcome(
    operator_client: Client, settings
) -> None:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 60
    connectors = factories.exchange_connectors(44)
    ids = [c.id for c in connectors] + ["00000000-0000-0000-0000-00000000dead"]
    forget_graph_calls()
    response = operator_client.post(
        "/exchange-connectors/sync/", {"ids": ids, "sync_type": "deltaSync"}, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    batches = [call for call in graph_calls("POST") if call.path.endswith("$batch")]
    assert len(batches) == 3
    assert html.count('hx-swap-oob="true"') == 45
    assert html.count("Sync requested") == 44
    assert "Sync refused" in html and "no such object" in html
    assert "44 of 45" in response["HX-Trigger"]
    outcomes = AuditEntry.objects.filter(phase=Phase.OUTCOME)
    assert outcomes.filter(outcome=Outcome.SUCCEEDED).count() == 44
    assert outcomes.filter(outcome=Outcome.FAILED, graph_status=404).count() == 1


def test_bulk_sync_needs_a_selection(operator_client: Client) -> None:
    response = operator_client.post(
        "/exchange-connectors/sync/", {"sync_type": "deltaSync"}, follow=True
    )
    assert "Select between 1 and 500 connectors" in response.content.decode()


def test_inner_throttling_in_a_bulk_sync_is_retried(
    operator_client: Client, sandbox_faults, settings
) -> None:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 60
    connectors = factories.exchange_connectors(3)
    sandbox_faults.install(
        {
            "method": "POST",
            "path": "/beta/deviceManagement/exchangeConnectors/*/sync",
            "fault": "429",
            "retry_after": 1,
            "times": 1,
        }
    )
    response = operator_client.post(
        "/exchange-connectors/sync/",
        {"ids": [c.id for c in connectors], "sync_type": "deltaSync"},
        headers=HTMX,
    )
    assert response.content.decode().count("Sync requested") == 3
    assert AuditEntry.objects.filter(phase=Phase.OUTCOME, outcome=Outcome.SUCCEEDED).count() == 3


def test_an_expired_session_is_sent_to_sign_in_again(signed_in_client, connector, settings) -> None:
    settings.SANDBOX_ACCESS_TOKEN_LIFETIME = 60  # MSAL treats it as expired: it must refresh
    admin_client = signed_in_client(ADMIN)
    RefreshToken.objects.update(revoked_at=timezone.now())
    response = admin_client.get("/exchange-connectors/")
    assert response.status_code == 302
    assert response["Location"] == "/auth/sign-in/?next=/exchange-connectors/"
    htmx = admin_client.get("/exchange-connectors/", headers=HTMX)
    assert htmx["HX-Redirect"].startswith("/auth/sign-in/?next=")


def test_page_api_and_bulk_sync_audit_rows_name_their_target_alike(
    operator_client: Client, connector: ExchangeConnector
) -> None:
    """The sync service fetches what it audits: whichever way a sync is asked for, its audit
    rows name the connector as the admin knows it."""
    operator_client.post(f"/exchange-connectors/{connector.id}/sync/", {"sync_type": "deltaSync"})
    operator_client.post(
        f"/api/v1/exchange-connectors/{connector.id}/sync/",
        {"syncType": "deltaSync"},
        content_type="application/json",
    )
    operator_client.post(
        "/exchange-connectors/sync/", {"ids": [connector.id], "sync_type": "deltaSync"}
    )

    rows = AuditEntry.objects.filter(target_id=connector.id).order_by("id")
    assert [(row.channel, row.phase) for row in rows] == [
        ("web", Phase.ATTEMPT),
        ("web", Phase.OUTCOME),
        ("api", Phase.ATTEMPT),
        ("api", Phase.OUTCOME),
        ("web", Phase.ATTEMPT),
        ("web", Phase.OUTCOME),
    ]
    assert {row.target_name for row in rows} == {connector.server_name}


def test_a_landed_sync_refreshes_last_sync_health_and_history_on_the_detail_page(
    operator_client: Client, connector
) -> None:
    """Issue 13, item 7: "Synced" shows, and so do the new last sync and "Seen to land: Yes"."""
    sync(operator_client, connector)  # as the detail page's Quick sync does (plain POST)
    stale = connector.last_sync_date_time
    landed = operator_client.get(
        f"/exchange-connectors/{connector.id}/sync-status/",
        {
            "requested_at": (timezone.now() - timedelta(seconds=5)).isoformat(),
            "sync_type": "deltaSync",
        },
        headers={**HTMX, "HX-Target": "sync-panel"},
    )
    html = landed.content.decode()
    assert landed.status_code == 286 and ">Synced<" in html
    assert 'id="last-sync" data-testid="last-sync" hx-swap-oob="true"' in html
    connector.refresh_from_db()
    assert connector.last_sync_date_time > stale
    assert connector.last_sync_date_time.strftime("%Y-%m-%d %H:%M:%S") in html
    assert 'id="health-fact" hx-swap-oob="true"' in html and ">Healthy<" in html
    assert 'id="sync-history" data-testid="sync-history" hx-swap-oob="true"' in html
    assert ">Yes<" in html and "Not yet" not in html


def test_no_sync_seen_names_the_wait_as_configured(operator_client: Client, settings) -> None:
    """Issue 13, item 10: a 15 s timeout is "after 15 seconds", not "after 1 min"."""
    settings.SYNC_VERIFY_TIMEOUT_SECONDS = 15
    broken = factories.exchange_connector(
        sync_broken=True, last_sync=timezone.now() - timedelta(days=4)
    )
    html = sync(operator_client, broken, headers=HTMX).content.decode()
    gave_up = poll(operator_client, broken, (timezone.now() - timedelta(minutes=1)).isoformat())
    assert "after 15 seconds:" in gave_up.content.decode()
    assert "min:" not in gave_up.content.decode() and html


def test_bulk_sync_of_one_says_one_connector(operator_client: Client, connector) -> None:
    """Issue 13, item 10: "Sync requested for 1 connector.", not "1 connectors"."""
    response = operator_client.post(
        "/exchange-connectors/sync/", {"sync_type": "deltaSync", "ids": [connector.id]}, follow=True
    )
    assert "Sync requested for 1 connector." in response.content.decode()


MISSING = [f"00000000-0000-0000-0000-{n:012d}" for n in range(8)]


def second_batch_post_fails(sandbox_faults) -> None:
    """The first `$batch` POST is served (after 1 ms), the second answers 503."""
    sandbox_faults.install(
        {"method": "POST", "path": "/beta/$batch", "fault": "delay", "seconds": 0.001, "times": 1},
        {"method": "POST", "path": "/beta/$batch", "fault": "503", "times": 1},
    )


def bulk_ids() -> list[str]:
    """12 real connectors and 8 unknown ids (the first $batch POST), then 5 real ones."""
    real = [c.id for c in factories.exchange_connectors(17)]
    return real[:12] + MISSING + real[12:]


def test_when_the_second_batch_post_fails_the_first_chunk_keeps_its_outcomes_on_the_page(
    operator_client: Client, sandbox_faults, settings
) -> None:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 60
    ids = bulk_ids()
    second_batch_post_fails(sandbox_faults)

    response = operator_client.post(
        "/exchange-connectors/sync/", {"ids": ids, "sync_type": "deltaSync"}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("Sync requested") == 12
    assert html.count("Sync refused") == 8 and "no such object" in html
    assert html.count("Sync outcome unknown") == 5 and "may or may not have been applied" in html
    assert "25 sync requests sent, 8 refused, 5 with an unknown outcome" in html
    outcomes = {
        entry.target_id: (entry.outcome, entry.graph_status)
        for entry in AuditEntry.objects.filter(phase=Phase.OUTCOME)
    }
    assert [outcomes[i] for i in ids] == (
        [(Outcome.SUCCEEDED, 204)] * 12 + [(Outcome.FAILED, 404)] * 8 + [(Outcome.UNKNOWN, 503)] * 5
    )


def test_when_the_second_batch_post_fails_the_api_reports_each_connectors_outcome(
    operator_client: Client, sandbox_faults, settings
) -> None:
    settings.SANDBOX_SYNC_DELAY_SECONDS = 60
    ids = bulk_ids()
    second_batch_post_fails(sandbox_faults)

    response = operator_client.post(
        "/api/v1/exchange-connectors/sync/",
        {"connectorIds": ids, "syncType": "deltaSync"},
        content_type="application/json",
    )

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["connectorId"] for r in results] == ids
    assert [r["outcome"] for r in results] == ["succeeded"] * 12 + ["failed"] * 8 + ["unknown"] * 5
    assert [r["error"] and r["error"]["status"] for r in results] == [None] * 12 + [404] * 8 + [
        503
    ] * 5
    audited = AuditEntry.objects.filter(phase=Phase.OUTCOME)
    assert audited.filter(outcome=Outcome.SUCCEEDED).count() == 12
    assert audited.filter(outcome=Outcome.FAILED, graph_status=404).count() == 8
    assert audited.filter(outcome=Outcome.UNKNOWN, graph_status=503).count() == 5

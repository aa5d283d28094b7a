"""No lost update: eight admins save an edit of one connector at once, all from the same form
state, over a real server (Django's live server, one thread per request). The check-then-PATCH is
serialised per connector (kernel.locks), so exactly one wins and seven see the conflict."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection

from audit.models import AuditEntry, Outcome, Phase
from sandbox.models import ExchangeConnector
from tests.conftest import ADMIN
from tests.live import LiveUser, Timed
from tests.sandbox import factories

pytestmark = pytest.mark.django_db(transaction=True)
EDITORS = 8


def race(editors: list[LiveUser], send: Any) -> list[Timed]:
    """Every editor sends at the same moment (a barrier), each from its own thread."""
    barrier = threading.Barrier(len(editors))
    answers: list[Timed | None] = [None] * len(editors)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = send(index, editors[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(editors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return [answer for answer in answers if answer is not None]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the test database on SQLite is in memory with a shared cache, where concurrent "
    "writers fail at once with 'database table is locked' instead of waiting their turn as a "
    "file database does: run with DATABASE_URL set to PostgreSQL",
)
def test_eight_concurrent_editors_from_one_form_state_one_wins_seven_conflict(
    live_server: Any,
) -> None:
    connector: ExchangeConnector = factories.exchange_connector(exchange_alias="before-race")
    editors = [LiveUser(live_server.url, ADMIN) for _ in range(EDITORS)]

    answers = race(
        editors,
        lambda index, editor: editor.send(
            "PATCH",
            f"/api/v1/exchange-connectors/{connector.id}/update/",
            json={
                "values": {"exchangeAlias": f"editor-{index}"},
                "expected": {"exchangeAlias": "before-race"},
                "reason": "race",
            },
        ),
    )

    assert sorted(answer.response.status_code for answer in answers) == [200] + [409] * 7
    [winner] = [a.response.json() for a in answers if a.response.status_code == 200]
    connector.refresh_from_db()
    assert connector.exchange_alias == winner["exchangeAlias"]
    for loser in (a.response.json() for a in answers if a.response.status_code == 409):
        field = loser["extra"]["fields"]["exchangeAlias"]
        assert field["expected"] == "before-race" and field["in_graph"] == winner["exchangeAlias"]
    outcomes = AuditEntry.objects.filter(phase=Phase.OUTCOME)
    assert Counter(outcomes.values_list("outcome", flat=True)) == {Outcome.SUCCEEDED: 1}
    [success] = outcomes
    assert success.before == {"exchangeAlias": "before-race"}  # what Graph held
    assert success.after == {"exchangeAlias": winner["exchangeAlias"]}

"""A revoked refresh token becomes a critical "needs sign-in" incident at the first check, and
signing in for the watch again resolves it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from sandbox.models import RefreshToken
from tests.conftest import ADMIN
from tests.watch.alerting import recording_notices
from tests.watch.support import sign_in_for_watch
from watch.models import Incident, IncidentState
from watch.observations import Notice

pytestmark = pytest.mark.django_db(transaction=True)  # notices go out on commit


@pytest.fixture
def notices() -> Iterator[list[Notice]]:
    with recording_notices() as sent:
        yield sent


def test_a_revoked_refresh_token_opens_a_needs_sign_in_incident_until_an_admin_signs_in(
    admin_client: Client, notices: list[Notice]
) -> None:
    sign_in_for_watch(admin_client)
    call_command("watch_run", "check_credentials", "--here")
    assert not Incident.objects.exists()

    RefreshToken.objects.filter(upn=ADMIN).update(revoked_at=timezone.now())
    call_command("watch_run", "check_credentials", "--here")

    incident = Incident.objects.get()
    assert (incident.rule, incident.state, incident.severity) == (
        "watch_needs_sign_in",
        IncidentState.OPEN,
        "critical",
    )
    assert "credentials need sign-in" in admin_client.get("/").content.decode()

    sign_in_for_watch(admin_client)
    call_command("watch_run", "check_credentials", "--here")

    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED
    assert [(n.event, n.rule) for n in notices] == [
        ("opened", "watch_needs_sign_in"),
        ("resolved", "watch_needs_sign_in"),
    ]

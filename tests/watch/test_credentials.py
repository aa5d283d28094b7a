"""The watch's delegated credentials: signed in for by an Admin, encrypted at rest, used by watch
tasks only, marked "needs sign-in" when the identity provider refuses a refresh, revocable."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter

from audit.models import AuditEntry, Channel
from connectors.services import exchange_connector_sync
from graph.errors import GraphAuthError, GraphUnavailable
from graph.outbound import outbound_session
from kernel import identity
from sandbox.models import Consent, RefreshToken
from tenants.models import ManagedTenant
from tests.conftest import ADMIN, READER
from tests.sandbox.factories import exchange_connector
from tests.watch.support import partner_signed_in, sign_in_for_watch, stored_token_cache
from watch import credentials, crypto
from watch.models import CredentialStatus, WatchCredential

EXCHANGE = "/deviceManagement/exchangeConnectors"


@pytest.fixture
def watch_on(admin_client: Client) -> Client:
    response = sign_in_for_watch(admin_client)
    assert response.status_code == 302 and response["Location"] == "/watch/"
    return admin_client


def test_an_admin_turns_the_watch_on_by_signing_in_for_it(watch_on: Client) -> None:
    page = watch_on.get("/watch/").content.decode()

    assert "Active" in page
    assert "Sandbox Admin" in page or ADMIN in page
    credential = WatchCredential.objects.get()
    assert (credential.upn, credential.enabled_by) == (ADMIN, ADMIN)
    assert credential.last_refresh_at is not None
    entry = AuditEntry.objects.get(action="watchCredential.enable")
    assert (entry.actor_upn, entry.channel, entry.after["acting_as"]) == (ADMIN, "web", ADMIN)


def test_the_table_holds_ciphertext_only(watch_on: Client) -> None:
    stored = stored_token_cache()
    plaintext = Fernet(settings.WATCH_ENCRYPTION_KEYS[0]).decrypt(stored.encode()).decode()
    cache = json.loads(plaintext)
    (refresh,) = cache["RefreshToken"].values()

    assert stored.startswith("gAAAAA")  # a Fernet token
    for secret in (refresh["secret"], ADMIN, "RefreshToken", "secret"):
        assert secret not in stored
    # The only copy of the refresh token is that ciphertext: the sandbox knows it by its hash.
    assert RefreshToken.objects.filter(upn=ADMIN, revoked_at__isnull=True).exists()
    # Access tokens are not in the row: each is kept apart, encrypted the same way.
    assert "AccessToken" not in cache
    token = credentials.access_token(settings.WATCH_GRAPH_SCOPES, via="test")
    kept = [value for value in _cached_values() if isinstance(value, str)]
    assert kept and all(value.startswith("gAAAAA") and token not in value for value in kept)
    assert token in {Fernet(settings.WATCH_ENCRYPTION_KEYS[0]).decrypt(v).decode() for v in kept}


def _cached_values() -> list[object]:
    """What Django's cache holds (local memory or Redis), read past the store's own API."""
    backend = caches["default"]
    if hasattr(backend, "_cache") and isinstance(backend._cache, dict):  # local memory
        return [backend.get(key.split(":", 2)[2]) for key in backend._cache]
    client = backend._cache.get_client()  # Redis
    return [backend.get(key.decode().split(":", 2)[2]) for key in client.keys("*")]


@pytest.mark.django_db
def test_the_refresh_state_stays_the_same_size_however_many_tenants_it_serves(
    settings: Any,
) -> None:
    """Each customer tenant's token is kept apart: the locked row does not grow per tenant."""
    partner_signed_in(customers=5)  # 3 ready (of the showcase, 2 refuse)
    scopes = settings.WATCH_GRAPH_SCOPES
    sizes = []
    for tenant in ManagedTenant.objects.exclude(tenant_id=settings.ENTRA_TENANT_ID):
        try:
            credentials.access_token(
                settings.WATCH_GRAPH_SCOPES, via="test", tenant=tenant.tenant_id
            )
        except identity.TenantRefused:
            continue
        sizes.append(len(stored_token_cache()))
        cache = json.loads(crypto.decrypt(stored_token_cache()))
        assert "AccessToken" not in cache and len(cache["Account"]) == 1

    assert len(sizes) >= 3 and max(sizes) - min(sizes) < 200, sizes
    # A second sweep of the same tenant reads the kept token: no redemption, no row write.
    before = (RefreshToken.objects.count(), stored_token_cache())
    for tenant in ManagedTenant.objects.exclude(tenant_id=settings.ENTRA_TENANT_ID)[:1]:
        credentials.access_token(scopes, via="test", tenant=tenant.tenant_id)
    assert (RefreshToken.objects.count(), stored_token_cache()) == before


def test_a_watch_task_reads_graph_as_the_admin_and_writes_are_audited_as_the_watch(
    watch_on: Client,
) -> None:
    seeded = exchange_connector()
    graph = credentials.graph_for_watch(via="schedule 'test'")
    connectors = graph.get(EXCHANGE).value
    assert [c["id"] for c in connectors] == [seeded.id]
    actor = credentials.watch_actor(via="schedule 'nightly sync'")

    exchange_connector_sync(
        graph=graph, actor=actor, connector_id=connectors[0]["id"], sync_type="deltaSync"
    )

    entries = AuditEntry.objects.filter(action="exchangeConnector.sync")
    assert {(e.actor_upn, e.channel) for e in entries} == {(ADMIN, Channel.WATCH)}
    assert {e.user_agent for e in entries} == {"Connector Dashboard watch: schedule 'nightly sync'"}
    assert WatchCredential.objects.get().last_used_at is not None


def _revoke_sessions() -> None:
    """What revokeSignInSessions does in Entra: every refresh token of the user dies."""
    RefreshToken.objects.filter(upn=ADMIN).update(revoked_at=timezone.now())


def _expire() -> None:
    RefreshToken.objects.filter(upn=ADMIN).update(expires_at=timezone.now() - timedelta(days=1))


def _withdraw_consent() -> None:
    Consent.objects.filter(upn=ADMIN, scope="Directory.ReadWrite.All").delete()


@pytest.mark.parametrize(
    ("refusal", "aadsts"),
    [(_revoke_sessions, "AADSTS700082"), (_expire, "AADSTS700082"), (_withdraw_consent, "65001")],
    ids=["revoked", "expired", "consent withdrawn"],
)
def test_a_refused_refresh_marks_the_watch_needs_sign_in(
    watch_on: Client, refusal: Callable[[], None], aadsts: str, capsys: pytest.CaptureFixture[str]
) -> None:
    refusal()

    call_command("watch_run", "check_credentials", "--here")

    assert '"status": "needs_sign_in"' in capsys.readouterr().out
    credential = WatchCredential.objects.get()
    assert credential.status == CredentialStatus.NEEDS_SIGN_IN
    assert aadsts in credential.status_reason
    page = watch_on.get("/watch/").content.decode()
    assert "Needs sign-in" in page and aadsts in page
    entry = AuditEntry.objects.get(action="watchCredential.needsSignIn")
    assert (entry.actor_upn, entry.channel) == (ADMIN, Channel.WATCH)
    assert entry.user_agent == "Connector Dashboard watch: schedule 'run now'"
    # No further attempt reaches the identity provider until an Admin signs in again.
    with pytest.raises(GraphAuthError, match="needs sign-in"):
        credentials.graph_for_watch(via="test").get(EXCHANGE)
    sign_in_for_watch(watch_on)
    assert WatchCredential.objects.get().status == CredentialStatus.ACTIVE
    assert credentials.graph_for_watch(via="test").get(EXCHANGE).status == 200


def test_a_key_rotation_keeps_the_watch_working(watch_on: Client, settings: Any) -> None:
    old = settings.WATCH_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.WATCH_ENCRYPTION_KEYS = [new, old]

    assert credentials.check(via="test")["status"] == CredentialStatus.ACTIVE
    # Re-encrypted under the new key as it was used: the old key can go.
    Fernet(new).decrypt(stored_token_cache().encode())
    settings.WATCH_ENCRYPTION_KEYS = [new]
    assert credentials.graph_for_watch(via="test").get(EXCHANGE).status == 200
    # A key that never encrypted it decrypts nothing: the watch needs sign-in, and says why.
    settings.WATCH_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert credentials.check(via="test")["status"] == CredentialStatus.NEEDS_SIGN_IN
    assert "WATCH_ENCRYPTION_KEYS" in WatchCredential.objects.get().status_reason


def test_watch_reencrypt_moves_every_credential_to_the_first_key(
    watch_on: Client, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    new = Fernet.generate_key().decode()
    settings.WATCH_ENCRYPTION_KEYS = [new, settings.WATCH_ENCRYPTION_KEYS[0]]

    call_command("watch_reencrypt")

    assert "Re-encrypted 1 credential(s)" in capsys.readouterr().out
    Fernet(new).decrypt(stored_token_cache().encode())


def test_revoking_forgets_the_tokens_and_is_audited(watch_on: Client) -> None:
    response = watch_on.post("/watch/revoke/")

    assert response.status_code == 302
    credential = WatchCredential.objects.get()
    assert (credential.status, credential.token_cache) == (CredentialStatus.REVOKED, "")
    entry = AuditEntry.objects.get(action="watchCredential.revoke")
    assert (entry.actor_upn, entry.channel) == (ADMIN, "web")
    with pytest.raises(GraphAuthError, match="revoked"):
        credentials.graph_for_watch(via="test").get(EXCHANGE)
    assert "Off: Revoked by admin@sandbox.example." in watch_on.get("/watch/").content.decode()


def test_the_watch_acts_only_as_an_admin(admin_client: Client, reader_client: Client) -> None:
    assert reader_client.post("/watch/sign-in/").status_code == 403
    assert reader_client.post("/watch/revoke/").status_code == 403

    response = sign_in_for_watch(admin_client, upn=READER)

    assert response.status_code == 403
    assert "does not have the dashboard&#x27;s Admin role" in response.content.decode()
    assert not WatchCredential.objects.exists()


def test_the_browser_session_keeps_its_own_sign_in(watch_on: Client) -> None:
    """The watch's sign-in has its own flow and cache: the admin's pages still work as before."""
    seeded = exchange_connector()
    page = watch_on.get("/exchange-connectors/")
    assert page.status_code == 200 and seeded.server_name in page.content.decode()


class _Unreachable(BaseAdapter):
    """The identity provider's host refuses connections."""

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        raise requests.ConnectionError("[Errno 111] Connection refused", request=request)

    def close(self) -> None:
        pass


def test_an_unreachable_identity_provider_leaves_the_credentials_active(watch_on: Client) -> None:
    session = outbound_session()
    prefix = f"{settings.SANDBOX_LOGIN_ORIGIN}/"
    working = session.adapters[prefix]
    session.mount(prefix, _Unreachable())
    try:
        with pytest.raises(GraphUnavailable, match="could not be reached"):
            credentials.check(via="test")
    finally:
        session.mount(prefix, working)

    assert WatchCredential.objects.get().status == CredentialStatus.ACTIVE
    assert not AuditEntry.objects.filter(action="watchCredential.needsSignIn").exists()
    assert credentials.check(via="test")["status"] == CredentialStatus.ACTIVE


def test_cancelling_the_watch_s_sign_in_stores_nothing_and_says_so(admin_client: Client) -> None:
    authorize = admin_client.post("/watch/sign-in/")["Location"]
    refused = admin_client.post(authorize, {"username": ADMIN, "cancel": "1"})

    response = admin_client.get(refused["Location"])

    assert response.status_code == 400
    assert "cancelled or refused" in response.content.decode()
    assert not WatchCredential.objects.exists()
    # The browser session's own sign-in is untouched.
    assert admin_client.get("/watch/").status_code == 200

"""Bearer tokens and delegated permissions on the sandbox's Graph: 401 and 403 as Graph sends."""

from __future__ import annotations

from collections.abc import Callable

import jwt
import pytest

from graph.responses import required_permission
from sandbox.models import ExchangeConnector
from tests.conftest import ADMIN, LIMITED
from tests.sandbox.factories import app_proxy_connector, connector_group, exchange_connector
from tests.sandbox.graph_support import (
    ALL_SCOPES,
    APP_PROXY,
    AUDIT,
    EXCHANGE,
    Caller,
    assert_directory_error,
    assert_graph_error,
    assert_intune_error,
    caller,
    logged,
    narrow_caller,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def limited(graph_token: Callable[..., str]) -> Caller:
    """Dashboard admin with read-only Graph rights."""
    return caller(graph_token, LIMITED)


def _assert_unauthorized(response) -> None:
    assert_graph_error(response, 401, "InvalidAuthenticationToken")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "insufficient_claims" not in response.headers["WWW-Authenticate"]


def test_no_token_is_401_and_logged() -> None:
    _assert_unauthorized(Caller(None).get(EXCHANGE))
    assert [row.status for row in logged(EXCHANGE)] == [401]


def test_a_garbage_token_is_401() -> None:
    _assert_unauthorized(Caller("not.a.jwt").get(EXCHANGE))


def test_a_token_signed_by_someone_else_is_401() -> None:
    forged = jwt.encode({"aud": "https://graph.microsoft.com"}, "s" * 32, algorithm="HS256")
    _assert_unauthorized(Caller(forged).get(EXCHANGE))


def test_an_expired_token_is_401(graph_token: Callable[..., str], settings) -> None:
    settings.SANDBOX_ACCESS_TOKEN_LIFETIME = -120
    expired = caller(graph_token)

    response = expired.get(EXCHANGE)

    _assert_unauthorized(response)
    assert "expired" in response.json()["error"]["message"]


def test_a_basic_scheme_is_401() -> None:
    response = Caller(None).get(EXCHANGE, headers={"Authorization": "Basic dXNlcjpwdw=="})
    _assert_unauthorized(response)


def _denied(response, permission: str) -> None:
    """403 in the dialect of the service behind the path: Intune's or the directory's."""
    if "/beta/deviceManagement/" in response.request.url:
        wrapper = assert_intune_error(response, 403, "Forbidden")
        assert wrapper["sentence"].startswith(
            "Application is not authorized to perform this operation. Application must have "
            "one of the following scopes: "
        )
        message = wrapper["sentence"]
    else:
        error = assert_directory_error(response, 403, "Authorization_RequestDenied")
        assert error["message"].startswith("Insufficient privileges to complete the operation.")
        message = error["message"]
    # The dashboard reads the first permission named to tell the admin what is missing.
    assert required_permission(message) == permission


def test_read_only_rights_may_read_exchange_connectors(limited: Caller) -> None:
    exchange_connector()
    assert len(limited.get(EXCHANGE).json()["value"]) == 1


def test_read_only_rights_may_not_write_exchange_connectors(limited: Caller) -> None:
    connector = exchange_connector(server_name="KEEP.contoso.local")
    write = "DeviceManagementServiceConfig.ReadWrite.All"

    _denied(limited.patch(f"{EXCHANGE}/{connector.id}", json={"serverName": "X"}), write)
    _denied(limited.post(f"{EXCHANGE}/{connector.id}/sync", json={"syncType": "deltaSync"}), write)
    _denied(limited.delete(f"{EXCHANGE}/{connector.id}"), write)
    _denied(limited.post(EXCHANGE, json={"serverName": "X"}), write)
    assert ExchangeConnector.objects.get().server_name == "KEEP.contoso.local"


def test_exchange_read_needs_service_config_read() -> None:
    only_apps = narrow_caller(ADMIN, ["DeviceManagementApps.Read.All"])
    _denied(only_apps.get(EXCHANGE), "DeviceManagementServiceConfig.Read.All")


def test_create_also_accepts_configuration_read_write() -> None:
    configuration = narrow_caller(ADMIN, ["DeviceManagementConfiguration.ReadWrite.All"])

    response = configuration.post(EXCHANGE, json={"serverName": "EXCH03.contoso.local"})

    assert response.status_code == 201, response.text
    # …but not update, which only ServiceConfig grants.
    created = response.json()["id"]
    _denied(
        configuration.patch(f"{EXCHANGE}/{created}", json={"version": "2"}),
        "DeviceManagementServiceConfig.ReadWrite.All",
    )


def test_app_proxy_needs_directory_read_write_even_to_read(limited: Caller) -> None:
    group = connector_group()
    connector = app_proxy_connector(group=group)
    needed = "Directory.ReadWrite.All"

    _denied(limited.get(f"{APP_PROXY}/connectors"), needed)
    _denied(limited.get(f"{APP_PROXY}/connectorGroups/{group.id}"), needed)
    _denied(limited.patch(f"{APP_PROXY}/connectors/{connector.id}", json={"status": "x"}), needed)
    _denied(limited.post(f"{APP_PROXY}/connectorGroups", json={"name": "G"}), needed)


def test_audit_events_need_the_apps_scope() -> None:
    service_config_only = narrow_caller(ADMIN, ["DeviceManagementServiceConfig.ReadWrite.All"])
    _denied(service_config_only.get(AUDIT), "DeviceManagementApps.Read.All")
    _denied(service_config_only.get(f"{AUDIT}/getAuditCategories"), "DeviceManagementApps.Read.All")


def test_full_rights_pass(graph_token: Callable[..., str]) -> None:
    admin = caller(graph_token, scopes=ALL_SCOPES)
    assert admin.get(AUDIT).status_code == 200
    assert admin.get(f"{APP_PROXY}/connectors").status_code == 200

"""The Graph client against the sandbox's Graph: ids, response metadata, typed errors, tokens."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable

import pytest

from graph.batch import BatchRequest
from graph.client import GraphClient
from graph.errors import (
    GraphAuthError,
    GraphBadRequest,
    GraphNotFound,
    GraphPermissionError,
    GraphThrottled,
    GraphTimeout,
    GraphUnavailable,
)
from graph.responses import claims_challenge, error_text, required_permission
from sandbox.models import ExchangeConnector
from tests.conftest import LIMITED
from tests.graph.conftest import EXCHANGE, RecordingTokens, graph_requests

pytestmark = pytest.mark.django_db


def is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def test_get_returns_the_entity_and_what_the_audit_log_records(
    graph: GraphClient, connector: ExchangeConnector
) -> None:
    response = graph.get(f"{EXCHANGE}/{connector.id}")

    assert response.status == 200
    assert response.body["id"] == connector.id
    assert response.body["serverName"] == "EXCH01.contoso.local"
    assert is_guid(response.request_id)
    assert is_guid(response.client_request_id)
    assert response.date.endswith("GMT")
    assert json.loads(response.diagnostic)["ServerInfo"]
    assert response.duration > 0
    assert response.attempts == 1


def test_every_request_sends_a_fresh_client_request_id(
    graph: GraphClient, connector: ExchangeConnector
) -> None:
    first = graph.get(f"{EXCHANGE}/{connector.id}")
    second = graph.get(f"{EXCHANGE}/{connector.id}")

    assert first.client_request_id != second.client_request_id
    logged = [
        row.client_request_id for row in graph_requests(f"/exchangeConnectors/{connector.id}")
    ]
    assert logged == [first.client_request_id, second.client_request_id]


def test_a_callers_correlation_id_is_sent_and_echoed(
    graph: GraphClient, connector: ExchangeConnector
) -> None:
    correlation_id = str(uuid.uuid4())

    response = graph.patch(
        f"{EXCHANGE}/{connector.id}",
        json={"exchangeAlias": "Renamed"},
        client_request_id=correlation_id,
    )

    assert response.client_request_id == correlation_id
    [logged] = graph_requests(f"/exchangeConnectors/{connector.id}", method="PATCH")
    assert logged.client_request_id == correlation_id
    connector.refresh_from_db()
    assert connector.exchange_alias == "Renamed"


def test_an_absolute_url_on_another_host_never_gets_the_token(graph: GraphClient) -> None:
    with pytest.raises(ValueError, match="evil.example"):
        graph.get("https://evil.example/beta/deviceManagement/exchangeConnectors")


def test_count_reads_the_plain_text_total(graph: GraphClient, connector: ExchangeConnector) -> None:
    response = graph.get(f"{EXCHANGE}/$count", headers={"ConsistencyLevel": "eventual"})
    assert str(response.body).strip() == "1"


# -- typed errors from real sandbox answers -------------------------------------------------------


def test_404_is_graph_not_found_with_the_ids(graph: GraphClient) -> None:
    crid = str(uuid.uuid4())
    with pytest.raises(GraphNotFound) as caught:
        graph.get(f"{EXCHANGE}/{uuid.uuid4()}", client_request_id=crid)

    error = caught.value
    assert error.status == 404
    assert error.code in {"ResourceNotFound", "itemNotFound", "Request_ResourceNotFound"}
    assert error.message
    assert is_guid(error.request_id)
    assert error.client_request_id == crid


def test_400_is_graph_bad_request_with_grahs_message(graph: GraphClient) -> None:
    too_many = [{"id": str(i), "method": "GET", "url": EXCHANGE} for i in range(21)]

    with pytest.raises(GraphBadRequest) as caught:
        graph.post("/$batch", json={"requests": too_many})

    assert caught.value.status == 400
    assert caught.value.code
    assert "20" in caught.value.message


def test_403_names_the_missing_permission(
    make_graph: Callable[..., GraphClient], connector: ExchangeConnector
) -> None:
    limited = make_graph(LIMITED)

    with pytest.raises(GraphPermissionError) as caught:
        limited.patch(f"{EXCHANGE}/{connector.id}", json={"exchangeAlias": "Nope"})

    error = caught.value
    assert error.status == 403
    # Intune's dialect: code Forbidden, a JSON wrapper in `message` read down to its sentence.
    assert error.code == "Forbidden"
    assert error.required_permission == "DeviceManagementServiceConfig.ReadWrite.All"
    assert error.message == (
        "Application is not authorized to perform this operation. Application must have one of "
        "the following scopes: DeviceManagementServiceConfig.ReadWrite.All"
    )
    assert is_guid(error.operation_id) and is_guid(error.activity_id)
    assert error.operation_id != error.activity_id and is_guid(error.request_id)
    connector.refresh_from_db()
    assert connector.exchange_alias != "Nope"


def test_a_directory_403_keeps_its_plain_sentence(
    make_graph: Callable[..., GraphClient], connector: ExchangeConnector
) -> None:
    with pytest.raises(GraphPermissionError) as caught:
        make_graph(LIMITED).get("/onPremisesPublishingProfiles/applicationProxy/connectors")

    error = caught.value
    assert error.code == "Authorization_RequestDenied"
    assert error.message.startswith("Insufficient privileges to complete the operation.")
    assert error.required_permission == "Directory.ReadWrite.All"
    assert (error.operation_id, error.activity_id) == ("", "")


def test_an_intune_404_reads_as_a_sentence(graph: GraphClient) -> None:
    with pytest.raises(GraphNotFound) as caught:
        graph.get(f"{EXCHANGE}/no-such-id")

    error = caught.value
    assert error.code == "ResourceNotFound"
    assert error.message == (
        "No deviceManagementExchangeConnector with id 'no-such-id' exists in this tenant."
    )
    assert is_guid(error.operation_id) and is_guid(error.activity_id)


def test_an_intune_400_is_read_down_to_its_sentence_with_the_ids_kept(
    graph: GraphClient, connector: ExchangeConnector
) -> None:
    with pytest.raises(GraphBadRequest) as caught:
        graph.patch(f"{EXCHANGE}/{connector.id}", json={"status": "String"})

    error = caught.value
    assert error.message.startswith("The value 'String' is not valid for property 'status'.")
    assert error.message.endswith("unknownFutureValue.")
    assert is_guid(error.operation_id) and is_guid(error.activity_id)


def test_401_refreshes_the_token_once_then_gives_up(connector: ExchangeConnector) -> None:
    tokens = RecordingTokens(["not-a-jwt", "still-not-a-jwt"])
    graph = GraphClient(tokens)

    with pytest.raises(GraphAuthError) as caught:
        graph.get(f"{EXCHANGE}/{connector.id}")

    assert tokens.calls == [False, True]
    assert caught.value.status == 401
    assert caught.value.code == "InvalidAuthenticationToken"
    assert list(caught.value.scopes) == list(graph.scopes)
    assert len(graph_requests(f"/exchangeConnectors/{connector.id}")) == 2


def test_an_expired_token_is_refreshed_silently_once(
    graph_token: Callable[..., str], settings, connector: ExchangeConnector
) -> None:
    settings.SANDBOX_ACCESS_TOKEN_LIFETIME = 0  # born expired: the sandbox's Graph refuses it
    expired = graph_token()
    settings.SANDBOX_ACCESS_TOKEN_LIFETIME = 3600
    tokens = RecordingTokens([expired, graph_token()])
    graph = GraphClient(tokens)

    response = graph.get(f"{EXCHANGE}/{connector.id}")

    assert response.status == 200
    assert tokens.calls == [False, True]
    assert [row.status for row in graph_requests(f"/exchangeConnectors/{connector.id}")] == [
        401,
        200,
    ]
    # The second request reuses the refreshed token: no more calls to the provider.
    graph.get(f"{EXCHANGE}/{connector.id}")
    assert tokens.calls == [False, True]


def test_503_for_a_write_is_graph_unavailable(
    graph: GraphClient, connector: ExchangeConnector, sandbox_faults
) -> None:
    sandbox_faults.install({"method": "POST", "path": "*/sync", "fault": "503"})

    with pytest.raises(GraphUnavailable) as caught:
        graph.post(f"{EXCHANGE}/{connector.id}/sync", json={"syncType": "deltaSync"})

    assert caught.value.status == 503
    assert caught.value.code == "serviceNotAvailable"
    assert not isinstance(caught.value, GraphThrottled)


def test_504_for_a_write_is_a_timeout_whose_outcome_is_unknown(
    graph: GraphClient, connector: ExchangeConnector, sandbox_faults
) -> None:
    sandbox_faults.install({"method": "PATCH", "path": "*", "fault": "504"})

    with pytest.raises(GraphTimeout) as caught:
        graph.patch(f"{EXCHANGE}/{connector.id}", json={"exchangeAlias": "x"})

    assert caught.value.status == 504
    assert [rule["hits"] for rule in sandbox_faults.rules()] == [1]  # not retried


def test_malformed_json_is_graph_unavailable(
    graph: GraphClient, connector: ExchangeConnector, sandbox_faults
) -> None:
    sandbox_faults.install({"path": "*/exchangeConnectors*", "fault": "malformed"})

    with pytest.raises(GraphUnavailable, match="unreadable JSON") as caught:
        graph.get(EXCHANGE)

    assert caught.value.status == 200
    assert is_guid(caught.value.request_id)


def test_a_dropped_connection_is_graph_unavailable(
    graph: GraphClient, connector: ExchangeConnector, sandbox_faults
) -> None:
    sandbox_faults.install({"method": "POST", "path": "*", "fault": "drop"})

    with pytest.raises(GraphUnavailable) as caught:
        graph.post(f"{EXCHANGE}/{connector.id}/sync", json={"syncType": "fullSync"})

    assert caught.value.status is None
    assert is_guid(caught.value.client_request_id)
    assert [rule["hits"] for rule in sandbox_faults.rules()] == [1]


def test_a_batch_item_error_is_typed_like_a_plain_one(
    graph: GraphClient, connector: ExchangeConnector
) -> None:
    results = graph.batch([BatchRequest(id="gone", method="GET", url=f"{EXCHANGE}/{uuid.uuid4()}")])

    assert isinstance(results["gone"].error, GraphNotFound)
    assert results["gone"].error.status == 404


# -- header and message parsing that the sandbox cannot produce -----------------------------------


def test_a_claims_challenge_is_decoded_for_msal() -> None:
    claims = '{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}'
    header = (
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
        'authorize", client_id="00000003-0000-0000-c000-000000000000", '
        f'error="insufficient_claims", claims="{base64.b64encode(claims.encode()).decode()}"'
    )

    assert claims_challenge({"WWW-Authenticate": header}) == claims
    assert claims_challenge({"WWW-Authenticate": 'Bearer error="invalid_token"'}) == ""


@pytest.mark.parametrize(
    ("message", "permission"),
    [
        (
            "Application is not authorized to perform this operation. Application must have "
            "one of the following scopes: DeviceManagementServiceConfig.ReadWrite.All",
            "DeviceManagementServiceConfig.ReadWrite.All",
        ),
        (
            "Missing scope permissions on the request. "
            "API requires one of 'Directory.ReadWrite.All'.",
            "Directory.ReadWrite.All",
        ),
        ("Insufficient privileges to complete the operation.", ""),
    ],
)
def test_the_missing_permission_is_read_from_a_403_message(message: str, permission: str) -> None:
    assert required_permission(message) == permission


INTUNE_500 = (
    '{\r\n  "_version": 3,\r\n  "Message": "An internal server error has occurred - Operation ID '
    "(for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: "
    "c7a5ef56-62d3-4a39-a2cd-0b6b1b8d2c1e - Url: https://fef.msua06.manage.microsoft.com/"
    "StatelessServiceConfigurationFEService/deviceManagement/exchangeConnectors('x')"
    '?api-version=2024-01-01 - CustomApiErrorPhrase: ",\r\n  "CustomApiErrorPhrase": "",\r\n  '
    '"RetryAfter": null,\r\n  "ErrorSourceService": "",\r\n  "HttpHeaders": "{}"\r\n}'
)


@pytest.mark.parametrize(
    ("raw", "sentence", "operation_id", "activity_id"),
    [
        (
            INTUNE_500,
            "An internal server error has occurred",
            "00000000-0000-0000-0000-000000000000",
            "c7a5ef56-62d3-4a39-a2cd-0b6b1b8d2c1e",
        ),
        # The suffix without the wrapper (some Intune answers), and a plain directory sentence.
        (
            "Resource not found - Operation ID (for customer support): "
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301 - Activity ID: "
            "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d - Url: https://fef/x - CustomApiErrorPhrase: ",
            "Resource not found",
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d",
        ),
        ("Insufficient privileges to complete the operation.", "", "", ""),
        # A wrapper without a Message is never shown raw.
        ('{"_version": 3, "CustomApiErrorPhrase": ""}', None, "", ""),
        ("{not json", "{not json", "", ""),
    ],
)
def test_both_dialects_read_down_to_a_sentence(
    raw: str, sentence: str | None, operation_id: str, activity_id: str
) -> None:
    text = error_text(raw)
    expected = raw if sentence == "" else (sentence or "")
    assert (text.message, text.operation_id, text.activity_id) == (
        expected,
        operation_id,
        activity_id,
    )

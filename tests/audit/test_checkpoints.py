"""Checkpoints anchor the chain's tail outside the database; keys rotate without breaking it."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.test import override_settings

from audit.checkpoints import Checkpoint
from audit.verification import audit_chain_verify
from tests.audit.conftest import RecordAction

pytestmark = pytest.mark.django_db


class Webhook:
    """A real HTTP endpoint on localhost that keeps what is POSTed to it."""

    def __init__(self, status: int) -> None:
        received: list[dict[str, object]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/checkpoints"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook(204)
    yield hook
    hook.close()


def checkpoint_from_command(capsys: pytest.CaptureFixture[str]) -> str:
    call_command("audit_checkpoint")
    return capsys.readouterr().out.strip()


def test_a_checkpoint_is_one_log_line_and_a_webhook_post(
    record_action: RecordAction, webhook: Webhook, caplog, capsys
) -> None:
    record_action()
    with (
        override_settings(AUDIT_CHECKPOINT_WEBHOOK_URL=webhook.url),
        caplog.at_level(logging.INFO, logger="audit.checkpoint"),
    ):
        printed = checkpoint_from_command(capsys)
    lines = [r.getMessage() for r in caplog.records if r.name == "audit.checkpoint"]
    assert len(lines) == 1 and lines[0].startswith("audit_checkpoint {")
    posted = webhook.received[0]
    assert posted == json.loads(printed) == json.loads(lines[0].split(" ", 1)[1])
    assert posted["count"] == 2 and posted["keyId"] == "dev"
    assert set(posted) == {"lastId", "lastHash", "count", "time", "keyId", "mac"}


def test_a_failing_webhook_fails_the_command_after_the_log_line(
    record_action: RecordAction, caplog
) -> None:
    record_action()
    hook = Webhook(500)
    try:
        with (
            override_settings(AUDIT_CHECKPOINT_WEBHOOK_URL=hook.url),
            caplog.at_level(logging.INFO, logger="audit.checkpoint"),
            pytest.raises(CommandError, match="webhook answered HTTP 500"),
        ):
            call_command("audit_checkpoint")
    finally:
        hook.close()
    assert any(r.getMessage().startswith("audit_checkpoint {") for r in caplog.records)


def test_an_empty_log_has_nothing_to_checkpoint() -> None:
    with pytest.raises(CommandError, match="empty"):
        call_command("audit_checkpoint")


def test_verify_against_a_checkpoint_from_its_log_line_or_a_file(
    record_action: RecordAction, capsys, tmp_path
) -> None:
    record_action()
    printed = checkpoint_from_command(capsys)
    record_action()  # the log grows after the checkpoint: still everything up to it is there
    call_command("audit_verify", checkpoint=f"INFO audit_checkpoint {printed}")
    out = capsys.readouterr().out
    assert "Audit chain intact: 4 entries verified." in out
    assert "Everything up to checkpoint" in out and "(2 entries) is present" in out
    assert "entries/s" in out
    saved = tmp_path / "checkpoints.log"
    saved.write_text(f"older line without json\naudit_checkpoint {printed}\n")
    call_command("audit_verify", checkpoint=str(saved))
    assert "is present" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["{}", "{not json", "no checkpoint here"])
def test_a_malformed_checkpoint_is_a_clear_error(text: str, tmp_path) -> None:
    argument = text if "{" in text else str(tmp_path / "missing.log")
    with pytest.raises(CommandError, match="not an audit checkpoint|Cannot read"):
        call_command("audit_verify", checkpoint=argument)


def test_an_altered_checkpoint_is_not_authentic(record_action: RecordAction, capsys) -> None:
    record_action()
    body = json.loads(checkpoint_from_command(capsys))
    body["count"] = 1
    with pytest.raises(CommandError, match="checkpoint is not authentic"):
        call_command("audit_verify", checkpoint=json.dumps(body))


def test_keys_rotate_and_each_span_verifies_with_its_own_key(
    record_action: RecordAction, capsys
) -> None:
    first_key = {"AUDIT_CHAIN_KEY": "first-key-" + "a" * 40, "AUDIT_CHAIN_KEY_ID": "k1"}
    with override_settings(**first_key):
        record_action()
        checkpoint = Checkpoint.from_text(checkpoint_from_command(capsys))
    rotated = {
        "AUDIT_CHAIN_KEY": "second-key-" + "b" * 40,
        "AUDIT_CHAIN_KEY_ID": "k2",
        "AUDIT_CHAIN_RETIRED_KEYS": {"k1": first_key["AUDIT_CHAIN_KEY"]},
    }
    with override_settings(**rotated):
        record_action()
        report = audit_chain_verify(checkpoint=checkpoint)
        assert report.intact, report.problem
        assert report.spans == {"k1": 2, "k2": 2}
        call_command("audit_verify")
        assert "Keys: k1 2, k2 2." in capsys.readouterr().out
    # Without the retired key the older span cannot be checked, and verify says which key.
    with override_settings(**{**rotated, "AUDIT_CHAIN_RETIRED_KEYS": {}}):
        report = audit_chain_verify()
        assert report.broken_entry_id is not None and "'k1' is not configured" in report.problem


def test_deploy_check_refuses_the_development_key() -> None:
    with override_settings(AUDIT_CHAIN_KEY_IS_DEVELOPMENT=True):
        assert "audit.E001" in [m.id for m in run_checks(include_deployment_checks=True)]
    with override_settings(AUDIT_CHAIN_KEY_IS_DEVELOPMENT=False, AUDIT_CHAIN_KEY="short"):
        assert "audit.W001" in [m.id for m in run_checks(include_deployment_checks=True)]
    with override_settings(AUDIT_CHAIN_KEY_IS_DEVELOPMENT=False, AUDIT_CHAIN_KEY="x" * 48):
        ids = [m.id for m in run_checks(include_deployment_checks=True)]
        assert "audit.E001" not in ids and "audit.W001" not in ids

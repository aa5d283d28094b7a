"""The filesystem broker never shows a worker a half-written message (kombu's own transport
creates the file empty, then writes it: a worker polling in between stopped on it)."""

from __future__ import annotations

import os
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from kombu import Connection

from watch import filesystem_transport


def test_a_message_appears_only_once_it_is_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    seen_while_writing: list[Any] = []
    real_replace = os.replace

    with Connection(
        "filesystem://", transport=filesystem_transport.Transport, transport_options=options
    ) as connection:
        channel = connection.default_channel

        def replace(source: str, target: str) -> None:
            # The moment before the rename: a worker polling now finds no message at all.
            try:
                seen_while_writing.append(channel._get("q"))
            except Empty:
                seen_while_writing.append("nothing")
            real_replace(source, target)

        monkeypatch.setattr(filesystem_transport.os, "replace", replace)
        channel._put("q", {"body": "x" * 10_000})

        assert seen_while_writing == ["nothing"]
        assert channel._get("q") == {"body": "x" * 10_000}
        assert list(tmp_path.iterdir()) == []

"""The connector vocabulary templates may name (`{{ ExchangeSyncType.FULL_SYNC }}`): enums.py's."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from connectors.enums import ExchangeSyncType


def enums(request: HttpRequest) -> dict[str, Any]:
    return {"ExchangeSyncType": ExchangeSyncType}

"""Small factories for the sandbox tenant's entities in tests (numbered, unique names)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sandbox.models import AppProxyConnector, ConnectorGroup, ExchangeConnector
from sandbox.tenant import (
    app_proxy_connector_create,
    connector_group_create,
    exchange_connector_create,
)

_numbers = itertools.count(1)


def exchange_connector(
    *, status: str = "connected", last_sync: datetime | None = None, **fields: Any
) -> ExchangeConnector:
    fields.setdefault("server_name", f"EXCH{next(_numbers):04d}.contoso.local")
    return exchange_connector_create(status=status, last_sync_date_time=last_sync, **fields)


def exchange_connectors(count: int) -> list[ExchangeConnector]:
    """Many connectors at once (bulk insert, so paging tests stay fast)."""
    return ExchangeConnector.objects.bulk_create(
        ExchangeConnector(server_name=f"EXCH{n:04d}.contoso.local", status="connected")
        for n in range(count)
    )


# A connectorGroupType Graph may add later (today's metadata has only applicationProxy): written
# straight into the sandbox's tables, since its Graph accepts documented values only.
FUTURE_GROUP_TYPE = "privateAccess"


def connector_group(*, applications: int = 0, **fields: Any) -> ConnectorGroup:
    fields.setdefault("name", f"Group {next(_numbers)}")
    return connector_group_create(application_count=applications, **fields)


def app_proxy_connector(*, group: ConnectorGroup | None = None, **fields: Any) -> AppProxyConnector:
    fields.setdefault("machine_name", f"APPPROXY{next(_numbers):02d}.contoso.local")
    return app_proxy_connector_create(group=group, **fields)

"""Which connector pages the Entra roles a GDAP relationship grants allow (TENANTS.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

INTUNE_ADMINISTRATOR = "3a2c62db-5318-420d-8d74-23affee5d9d5"
APPLICATION_ADMINISTRATOR = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"

ROLE_NAMES = {
    INTUNE_ADMINISTRATOR: "Intune Administrator",
    APPLICATION_ADMINISTRATOR: "Application Administrator",
    CLOUD_APPLICATION_ADMINISTRATOR: "Cloud Application Administrator",
    GLOBAL_ADMINISTRATOR: "Global Administrator",
}


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    path: str  # under /t/<tenant>/
    roles: frozenset[str]


SECTIONS = (
    Section(
        "exchange",
        "Exchange connectors",
        "exchange-connectors/",
        frozenset({INTUNE_ADMINISTRATOR, GLOBAL_ADMINISTRATOR}),
    ),
    Section(
        "app_proxy",
        "App Proxy",
        "app-proxy/connectors/",
        frozenset(
            {APPLICATION_ADMINISTRATOR, CLOUD_APPLICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR}
        ),
    ),
    Section(
        "intune_audit",
        "Intune audit events",
        "audit/intune/",
        frozenset({INTUNE_ADMINISTRATOR, GLOBAL_ADMINISTRATOR}),
    ),
)


def role_names(role_ids: Iterable[str]) -> list[str]:
    return [ROLE_NAMES.get(role, role) for role in role_ids]


def allowed_sections(role_ids: Iterable[str] | None) -> list[Section]:
    """The sections the roles allow; None (the home tenant, a guest's tenant): all of them, and
    Graph decides."""
    if role_ids is None:
        return list(SECTIONS)
    held = set(role_ids)
    return [section for section in SECTIONS if section.roles & held]

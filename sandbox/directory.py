"""The sandbox tenant's directory: its demo users, their app roles and their Graph rights."""

from __future__ import annotations

from dataclasses import dataclass

READ_SCOPES = frozenset(
    {
        "DeviceManagementServiceConfig.Read.All",
        "DeviceManagementApps.Read.All",
        "Directory.Read.All",
        "User.Read",
        "DelegatedAdminRelationship.Read.All",
        "CrossTenantInformation.ReadBasic.All",
    }
)
ALL_SCOPES = READ_SCOPES | {
    "DeviceManagementServiceConfig.ReadWrite.All",
    "DeviceManagementConfiguration.ReadWrite.All",
    "DeviceManagementApps.ReadWrite.All",
    "Directory.ReadWrite.All",
}


@dataclass(frozen=True)
class DemoUser:
    upn: str
    name: str
    oid: str
    roles: tuple[str, ...]
    graph_scopes: frozenset[str]
    description: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        upn="admin@sandbox.example",
        name="Ada Admin",
        oid="a0000000-0000-4000-8000-000000000001",
        roles=("Dashboard.Admin",),
        graph_scopes=ALL_SCOPES,
        description="May do everything: edit, delete, sync, manage groups.",
    ),
    DemoUser(
        upn="operator@sandbox.example",
        name="Otto Operator",
        oid="a0000000-0000-4000-8000-000000000002",
        roles=("Dashboard.Operator",),
        graph_scopes=ALL_SCOPES,
        description="May sync connectors, may not edit or delete them.",
    ),
    DemoUser(
        upn="reader@sandbox.example",
        name="Rita Reader",
        oid="a0000000-0000-4000-8000-000000000003",
        roles=("Dashboard.Reader",),
        graph_scopes=ALL_SCOPES,
        description="May look at everything, change nothing.",
    ),
    DemoUser(
        upn="limited@sandbox.example",
        name="Lee Limited",
        oid="a0000000-0000-4000-8000-000000000004",
        roles=("Dashboard.Admin",),
        graph_scopes=READ_SCOPES,
        description="Dashboard admin with read-only Graph rights: Graph answers 403 on writes.",
    ),
)


def demo_user(upn: str) -> DemoUser | None:
    return next((user for user in DEMO_USERS if user.upn == upn.strip().lower()), None)


def demo_user_by_oid(oid: str) -> DemoUser | None:
    return next((user for user in DEMO_USERS if user.oid == oid), None)

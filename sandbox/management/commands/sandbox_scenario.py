"""`manage.py sandbox_scenario`: make a sandbox connector or group fail at a time, and recover.

sandbox_scenario group-down --tenant customer004.example --object <group id> --at +1m
sandbox_scenario exchange-stops-syncing --object <id> --at -4d --disconnected
sandbox_scenario recover 3 [--at +10m]
sandbox_scenario list
sandbox_scenario clear
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sandbox import scenarios
from sandbox.models import Scenario, ScenarioKind

TIME_HELP = "'now' (default), an ISO 8601 date-time (UTC unless it says), or +10m / -3d / +90s."


class Command(BaseCommand):
    help = (
        "Sandbox scenarios: an Exchange connector stops syncing, an App Proxy connector goes "
        "inactive or a connector group loses all its active connectors, at a given time, and "
        "recovers. Kept in the sandbox's database, so sandbox_serve and every worker see them."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="SCENARIO|ACTION")
        for kind in ScenarioKind:
            outage = actions.add_parser(kind.value, help=kind.label)
            outage.add_argument(
                "--tenant", default="", help="The tenant's id or domain (default: the partner)."
            )
            outage.add_argument("--object", required=True, help="The connector's or group's id.")
            outage.add_argument("--at", default=None, help=f"When it starts: {TIME_HELP}")
            outage.add_argument("--recover-at", default=None, help=f"When it ends: {TIME_HELP}")
            if kind == ScenarioKind.EXCHANGE_STOPS_SYNCING:
                outage.add_argument(
                    "--disconnected",
                    action="store_true",
                    help="Also report status 'disconnected' while it is down.",
                )
        recover = actions.add_parser("recover", help="End an open scenario.")
        recover.add_argument("id", type=int)
        recover.add_argument("--at", default=None, help=f"When it ends: {TIME_HELP}")
        actions.add_parser("list", help="Show every scenario and its state.")
        actions.add_parser("clear", help="Recover the open scenarios now and forget them all.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "list":
                self._list()
            elif action == "clear":
                count = scenarios.clear()
                self.stdout.write(f"Recovered the open scenarios and removed {count}.")
            elif action == "recover":
                self._show(scenarios.recover(options["id"], at=options["at"]))
            else:
                request = scenarios.Request(
                    scenario=action,
                    object_id=options["object"],
                    tenant=options["tenant"],
                    at=options["at"],
                    recover_at=options["recover_at"],
                    disconnected=options.get("disconnected", False),
                )
                self._show(scenarios.create(request))
        except scenarios.ScenarioError as exc:
            raise CommandError(f"{exc.field}: {exc}") from exc

    def _list(self) -> None:
        rows = scenarios.listing()
        if not rows:
            self.stdout.write("No scenarios.")
        for scenario in rows:
            self._show(scenario)

    def _show(self, scenario: Scenario) -> None:
        data = scenarios.as_json(scenario)
        line = (
            f"#{data['id']} {data['scenario']} of {data['object']} in tenant {data['tenant']}: "
            f"{data['state']}, at {data['at']}"
        )
        if data["recover_at"]:
            line += f", recovers at {data['recover_at']}"
        if data["disconnected"]:
            line += " (disconnected)"
        self.stdout.write(line)

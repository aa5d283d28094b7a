"""`manage.py sandbox_seed`: fill the sandbox tenant with realistic, repeatable data."""

from __future__ import annotations

from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand

from sandbox import estate, seed


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ArgumentTypeError("must be 0 or more")
    return number


class Command(BaseCommand):
    help = (
        "Seed the sandbox's partner tenant and --tenants customer tenants: Exchange "
        "connectors, App Proxy connectors and groups, and "
        f"{seed.AUDIT_DAYS} days of Intune audit events. Idempotent: only missing entities are "
        "created; --reset starts from an empty tenant."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--tenants",
            type=_count,
            default=estate.DEFAULT_TENANTS,
            help="Customer tenants of the partner (GDAP relationships), each seeded alike.",
        )
        parser.add_argument("--exchange", type=_count, default=seed.DEFAULT_EXCHANGE)
        parser.add_argument("--app-proxy", type=_count, default=seed.DEFAULT_APP_PROXY)
        parser.add_argument("--groups", type=_count, default=seed.DEFAULT_GROUPS)
        parser.add_argument("--audit-events", type=_count, default=seed.DEFAULT_AUDIT_EVENTS)
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the tenant's connectors, groups, audit events and request log first.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = estate.estate_seed(
            tenants=options["tenants"],
            exchange=options["exchange"],
            app_proxy=options["app_proxy"],
            groups=options["groups"],
            audit_events=options["audit_events"],
            reset=options["reset"],
        )
        verb = "Reset and seeded" if options["reset"] else "Seeded"
        self.stdout.write(f"{verb} the sandbox tenant:")
        self._counts(result.home)
        for tenant, counts in result.customers:
            self.stdout.write(f"Customer tenant {tenant.display_name} ({tenant.id}):")
            self._counts(counts)

    def _counts(self, result: seed.SeedResult) -> None:
        rows = [
            ("Exchange connectors", result.exchange_connectors),
            ("App Proxy connector groups", result.connector_groups),
            ("App Proxy connectors", result.app_proxy_connectors),
            ("Intune audit events", result.audit_events),
        ]
        for label, count in rows:
            self.stdout.write(f"  {label}: {count.total} ({count.created} new)")

"""`manage.py sandbox_serve`: the sandbox tenant alone over HTTPS on loopback."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox import fault_views, faults, server


class Command(BaseCommand):
    help = (
        "Serve the sandbox tenant (sign-in and Graph) over HTTPS on 127.0.0.1 with a generated "
        "certificate, and print the settings that point a dashboard at it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=server.DEFAULT_PORT)
        parser.add_argument("--quiet", action="store_true", help="Do not log each request.")

    def handle(self, *args: Any, port: int, quiet: bool, **options: Any) -> None:
        try:
            rules = faults.rules()  # SANDBOX_FAULTS: a bad rule should stop us before serving
        except faults.InvalidRule as exc:
            raise CommandError(f"SANDBOX_FAULTS: {exc}") from exc
        try:
            sandbox = server.create(port=port, quiet=quiet)
        except OSError as exc:
            raise CommandError(f"Cannot listen on 127.0.0.1:{port}: {exc}") from exc
        tenant = settings.SANDBOX_TENANT_ID
        lines = [
            f"Sandbox tenant on {sandbox.origin}/ (Ctrl+C to stop)",
            f"  Authority:       {sandbox.authority(tenant)}",
            f"  Graph base URL:  {sandbox.graph_base_url}",
            f"  CA to trust:     {sandbox.ca_file}",
            f"  Fault rules:     {sandbox.origin}/_sandbox/faults ({len(rules)} installed)",
            f"  Fault token:     {fault_views.faults_token()}"
            "  (send it as 'Authorization: Bearer <token>')",
            "",
            "Point a dashboard at it:",
            "  export ENTRA_CLIENT_ID=sandbox-dashboard",
            f"  export ENTRA_TENANT_ID={tenant}",
            f"  export ENTRA_AUTHORITY={sandbox.authority(tenant)}",
            f"  export GRAPH_BASE_URL={sandbox.graph_base_url}",
            f"  export OUTBOUND_CA_BUNDLE={sandbox.ca_file}",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
        try:
            sandbox.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sandbox.stop()

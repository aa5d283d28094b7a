"""Sync every disconnected Exchange connector through the Connector Dashboard API.

Signs in with the device code flow (you approve in a browser, as yourself), then acts as you:
the dashboard checks your role and calls Graph On-Behalf-Of you.

    python scripts/sync_disconnected.py --dashboard https://dashboard.contoso.com \\
        --authority https://login.microsoftonline.com/<tenant id> \\
        --client-id <this script's app registration> --api-client-id <the dashboard's>
"""

from __future__ import annotations

import argparse
import sys

import msal
import requests


class TrustingSession(requests.Session):
    """A session that sends `verify` with every request: requests lets REQUESTS_CA_BUNDLE
    override a session's own `verify`, but never a request's."""

    def __init__(self, verify: bool | str) -> None:
        super().__init__()
        self.ca_bundle = verify

    def request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("verify", self.ca_bundle)
        return super().request(*args, **kwargs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dashboard", default="http://127.0.0.1:8000")
    parser.add_argument("--authority", required=True)
    parser.add_argument("--client-id", required=True, help="this script's public client id")
    parser.add_argument("--api-client-id", required=True, help="the dashboard's client id")
    parser.add_argument("--ca-bundle", default=True, help="a CA file to trust (sign-in, API)")
    args = parser.parse_args()

    app = msal.PublicClientApplication(
        args.client_id,
        authority=args.authority,
        http_client=TrustingSession(args.ca_bundle),
        instance_discovery=False,
    )
    flow = app.initiate_device_flow(scopes=[f"api://{args.api_client_id}/access_as_user"])
    if "user_code" not in flow:
        sys.exit(f"Sign-in could not start: {flow.get('error_description')}")
    print(flow["message"], flush=True)
    token = app.acquire_token_by_device_flow(flow)
    if "access_token" not in token:
        sys.exit(f"Sign-in failed: {token.get('error_description')}")

    api = TrustingSession(args.ca_bundle)
    api.headers["Authorization"] = f"Bearer {token['access_token']}"
    base = f"{args.dashboard}/api/v1/exchange-connectors"
    ids, page = [], 1
    while True:
        listing = api.get(f"{base}/", params={"status": "disconnected", "page": page}, timeout=60)
        listing.raise_for_status()
        body = listing.json()
        ids += [connector["id"] for connector in body["results"]]
        if page >= body["pages"]:
            break
        page += 1
    if not ids:
        print("No disconnected Exchange connector.")
        return 0
    synced = api.post(
        f"{base}/sync/", json={"connectorIds": ids, "syncType": "deltaSync"}, timeout=120
    )
    if not synced.ok:
        sys.exit(f"Sync refused ({synced.status_code}): {synced.json()['message']}")
    failed = [result for result in synced.json()["results"] if result["error"]]
    for result in failed:
        print(f"{result['connectorId']}: {result['error']['message']}")
    print(f"Sync requested for {len(ids) - len(failed)} of {len(ids)} disconnected connectors.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

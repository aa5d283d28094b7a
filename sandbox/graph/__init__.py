"""The sandbox tenant's Microsoft Graph beta endpoints (Exchange, App Proxy, audit, $batch)."""

"""What every connector page shares: the typed request, the user's Graph client, partials."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from audit.selectors import AuditFilters, audit_action_list
from connectors.graph.client import GraphClient
from connectors.graph.session import graph_client_for_session


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def graph_for(request: HttpRequest) -> GraphClient:
    """The signed-in user's Graph client (tokens from the session's MSAL cache)."""
    return graph_client_for_session(request.session)


def app_proxy_graph_for(request: HttpRequest) -> GraphClient:
    """The user's Graph client for the App Proxy pages: `Directory.ReadWrite.All`, asked for the
    first time the user opens them (incremental consent through sign-in when not yet granted)."""
    return graph_client_for_session(request.session, scopes=settings.APP_PROXY_GRAPH_SCOPES)


def page_or_partial(request: HtmxHttpRequest, template: str, partial: str) -> str:
    """The whole page for a plain request; only the named partial for htmx."""
    return f"{template}#{partial}" if request.htmx else template


def change_history(target_type: str, target_id: str) -> dict[str, Any]:
    """A detail page's "Recent changes" (connectors/_recent_changes.html): the last 10 audit
    actions on the object and the link to all of them in the audit log."""
    actions = audit_action_list(filters=AuditFilters(target_type=target_type, target_id=target_id))
    return {
        "recent_changes": actions[:10],
        "history_url": f"{reverse('audit:list')}?target_type={target_type}&target_id={target_id}",
    }

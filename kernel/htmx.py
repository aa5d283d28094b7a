"""htmx plumbing every page shares: the typed request, partials by target, the form-error status."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def page_or_partial(request: HtmxHttpRequest, template: str, partial: str) -> str:
    """The whole page for a plain request; only the named partial for htmx."""
    return f"{template}#{partial}" if request.htmx else template


def form_error_status(request: HttpRequest) -> int:
    """The one rule for a form that did not validate: 422 under htmx (base.html swaps 422, so the
    errors show in place), 400 for a plain request (the page shows them)."""
    return 422 if getattr(request, "htmx", False) else 400


def targets(request: HttpRequest, element_id: str) -> bool:
    """Whether this is an htmx request whose target is the element `element_id`: the partial to
    answer with is picked from the target, not from a query parameter."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and htmx.target == element_id

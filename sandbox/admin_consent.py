"""Entra's admin-consent endpoint (`/<tenant>/adminconsent`): an administrator grants the
application its permissions for the whole tenant, then the browser goes back to the app with
`admin_consent=True&tenant=<id>` (or `error=access_denied`)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from sandbox import reply_urls, tenants
from sandbox.directory import DEMO_USERS, demo_user


def _back(redirect_uri: str, params: dict[str, str]) -> HttpResponseRedirect:
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return HttpResponseRedirect(f"{redirect_uri}{separator}{urlencode(params)}")


def _error_page(request: HttpRequest, message: str) -> HttpResponse:
    context = {"message": message, "title": "Admin consent refused"}
    return render(request, "sandbox/authorize_error.html", context, status=400)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def admin_consent(request: HttpRequest, tenant: str) -> HttpResponse:
    client_id = request.GET.get("client_id", "")
    redirect_uri = request.GET.get("redirect_uri", "")
    state = request.GET.get("state", "")
    directory = tenants.lookup(tenant)
    if directory is None:
        return _error_page(request, f"AADSTS90002: Tenant '{tenant}' not found.")
    if not client_id:
        return _error_page(
            request,
            "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
        )
    if not reply_urls.is_registered(redirect_uri):
        return _error_page(request, reply_urls.mismatch_message(redirect_uri, client_id))
    context = {"tenant": directory, "client_id": client_id, "users": DEMO_USERS}
    if request.method == "GET":
        return render(request, "sandbox/admin_consent.html", context)
    if "cancel" in request.POST:
        return _back(
            redirect_uri,
            {
                "error": "access_denied",
                "error_description": "AADSTS65004: User declined to consent to access the app.",
                "tenant": directory.id,
                "state": state,
            },
        )
    user = demo_user(request.POST.get("username", ""))
    held = tenants.access(directory)
    if user is None or held is None or tenants.APPLICATION_ADMINISTRATOR not in held.roles:
        error = (
            f"AADSTS90094: An administrator of {directory.display_name} must grant this "
            "permission: your account holds no administrator role in that tenant (its delegated "
            "admin relationship does not grant Application Administrator)."
        )
        context["error"] = error
        return render(request, "sandbox/admin_consent.html", context, status=403)
    directory.app_consented = True
    directory.save(update_fields=["app_consented"])
    return _back(redirect_uri, {"admin_consent": "True", "tenant": directory.id, "state": state})

"""The notification channel pages: everyone signed in reads them; Admins create, edit, delete
and send a test."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from audit.services import Actor
from kernel.htmx import HtmxHttpRequest, form_error_status, page_or_partial
from kernel.roles import Role, role_required
from watch.models import DeliveryStatus, NotificationChannel
from watch.notifications import channels, selectors
from watch.notifications.forms import ChannelForm

LIST = "watch/channels/list.html"
FORM = "watch/channels/form.html"
DETAIL = "watch/channels/detail.html"
DELETE = "watch/channels/delete.html"


@require_GET
def channel_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, LIST, {"channels": selectors.channel_rows()})


@require_GET
@vary_on_headers("HX-Request")
def channel_detail(request: HtmxHttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(NotificationChannel.objects.select_related("tenant"), pk=channel_id)
    deliveries = selectors.recent_deliveries(channel)
    context = {
        "channel": channel,
        "deliveries": deliveries,
        "sending": any(d.status == DeliveryStatus.PENDING for d in deliveries),
    }
    return render(request, page_or_partial(request, DETAIL, "deliveries"), context)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def channel_create(request: HtmxHttpRequest) -> HttpResponse:
    return _channel_form(request, None)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def channel_edit(request: HtmxHttpRequest, channel_id: int) -> HttpResponse:
    return _channel_form(request, get_object_or_404(NotificationChannel, pk=channel_id))


def _channel_form(request: HtmxHttpRequest, channel: NotificationChannel | None) -> HttpResponse:
    """The form (GET), its errors in place, or the saved channel (a new one when `channel` is
    None)."""
    form = ChannelForm(request.POST or None, channel=channel, auto_id="channel-%s")
    context = {"form": form, "channel": channel}
    if request.method == "GET":
        return render(request, FORM, context)
    if not form.is_valid():
        return render(request, FORM, context, status=form_error_status(request))
    actor = Actor.from_request(request)
    if channel is None:
        channel = channels.channel_create(actor=actor, values=form.values())
        messages.success(request, f"Created channel {channel.name}. Send it a test to try it.")
    else:
        channels.channel_update(actor=actor, channel=channel, values=form.values())
        messages.success(request, f"Saved channel {channel.name}.")
    return redirect("watch:channel", channel_id=channel.pk)


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def channel_delete(request: HtmxHttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(NotificationChannel, pk=channel_id)
    if request.method == "GET":
        return render(request, DELETE, {"channel": channel})
    name = channel.name
    channels.channel_delete(actor=Actor.from_request(request), channel=channel)
    messages.success(request, f"Deleted channel {name}.")
    return redirect("watch:channels")


@require_POST
@role_required(Role.ADMIN)
def channel_test(request: HtmxHttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(NotificationChannel, pk=channel_id)
    link = request.build_absolute_uri(reverse("watch:channel", args=[channel.pk]))
    channels.send_test(channel=channel, actor=Actor.from_request(request), url=link)
    messages.info(request, "Test queued: its delivery shows below as a worker sends it.")
    return redirect("watch:channel", channel_id=channel.pk)

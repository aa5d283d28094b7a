"""The watch's URLs."""

from __future__ import annotations

from django.urls import path

from watch import views

app_name = "watch"
urlpatterns = [
    path("", views.watch_page, name="page"),
    path("sign-in/", views.watch_sign_in, name="sign-in"),
    path("callback/", views.watch_callback, name="callback"),
    path("revoke/", views.watch_revoke, name="revoke"),
    path("sweep/", views.sweep_all, name="sweep_all"),
]

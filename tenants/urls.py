"""The tenants pages: `/tenants/` (access), `/tenants/health/` (all tenants at a glance)."""

from __future__ import annotations

from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("", views.tenant_list, name="list"),
    path("discover/", views.tenants_discover, name="discover"),
    path("add/", views.tenant_add, name="add"),
    path("check/", views.tenants_check, name="check"),
    path("consented/", views.tenant_consented, name="consented"),
    path("switch/", views.tenant_switch, name="switch"),
    path("options/", views.tenant_options, name="options"),
    path("health/", views.tenant_health, name="health"),
    path("health/refresh/", views.tenant_health_refresh, name="health-refresh"),
]

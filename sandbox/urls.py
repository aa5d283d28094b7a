"""The sandbox's URLs: at the root of its own hosts, and under /sandbox/ on the dashboard's."""

from __future__ import annotations

from django.urls import path, re_path

from sandbox import admin_consent, device_code, fault_views, idp, scenario_views
from sandbox.graph import views as graph_views

app_name = "sandbox"

urlpatterns = [
    # Graph beta: one pattern; sandbox.graph.dispatch routes, so $batch can route the same way.
    re_path(r"^beta/(?P<path>.*)$", graph_views.graph, name="graph"),
    re_path(r"^v1\.0/(?P<path>.*)$", graph_views.graph, {"version": "v1.0"}, name="graph-v1"),
    path(
        "<str:tenant>/v2.0/.well-known/openid-configuration",
        idp.openid_configuration,
        name="openid-configuration",
    ),
    path("<str:tenant>/oauth2/v2.0/authorize", idp.authorize, name="authorize"),
    path("<str:tenant>/oauth2/v2.0/token", idp.token, name="token"),
    path("<str:tenant>/oauth2/v2.0/logout", idp.logout, name="logout"),
    path("<str:tenant>/adminconsent", admin_consent.admin_consent, name="adminconsent"),
    path("<str:tenant>/discovery/v2.0/keys", idp.jwks, name="jwks"),
    path(
        "<str:tenant>/oauth2/v2.0/devicecode",
        device_code.device_authorization,
        name="devicecode",
    ),
    path("<str:tenant>/oauth2/deviceauth", device_code.device_page, name="deviceauth"),
    path("_sandbox/faults", fault_views.fault_rules, name="fault-rules"),
    path("_sandbox/faults/<int:rule_id>", fault_views.fault_rule, name="fault-rule"),
    path("_sandbox/scenarios", scenario_views.scenario_list, name="scenarios"),
    path("_sandbox/scenarios/<int:scenario_id>", scenario_views.scenario_detail, name="scenario"),
    path(
        "_sandbox/scenarios/<int:scenario_id>/recover",
        scenario_views.scenario_recover,
        name="scenario-recover",
    ),
]

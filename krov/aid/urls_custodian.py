"""The key custodian's calls: outside the language prefix (a machine, not a reader)."""

from __future__ import annotations

from django.urls import path

from krov.aid import views

app_name = "custodian"

urlpatterns = [
    path("custodian/v1/key", views.custodian_key, name="key"),
    path("custodian/v1/mine", views.custodian_mine, name="mine"),
    path("custodian/v1/case-grants", views.custodian_case_grants, name="case_grants"),
    path("custodian/v1/relays", views.custodian_relays, name="relays"),
]

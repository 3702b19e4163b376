from __future__ import annotations

from django.urls import path

from krov.accounts import views

app_name = "accounts"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("audit/", views.audit_log, name="audit_log"),
    path("account/", views.account_settings, name="settings"),
    path("account/safety/", views.safety, name="safety"),
    path("account/panic/", views.panic, name="panic"),
    path("account/duress/", views.duress, name="duress"),
    path("account/role-requests/", views.role_requests, name="role_requests"),
]

from __future__ import annotations

from django.urls import path

from krov.telegram import views

app_name = "telegram_web"

urlpatterns = [
    path("aid/telegram/", views.link, name="link"),
]

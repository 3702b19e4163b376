from __future__ import annotations

from django.urls import path

from krov.telegram import views

app_name = "telegram"

urlpatterns = [
    path("telegram/webhook", views.webhook, name="webhook"),
    path("dev/telegram", views.dev_chat, name="dev_chat"),
    path("dev/telegram/messages", views.dev_chat_messages, name="dev_chat_messages"),
]

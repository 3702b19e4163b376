from __future__ import annotations

from django.apps import AppConfig


class TelegramConfig(AppConfig):
    name = "krov.telegram"
    label = "telegram"
    verbose_name = "Telegram"

    def ready(self) -> None:
        from krov.telegram import receivers

        receivers.connect()

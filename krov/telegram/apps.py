from __future__ import annotations

from django.apps import AppConfig


class TelegramConfig(AppConfig):
    name = "krov.telegram"
    label = "telegram"
    verbose_name = "Telegram"

    def ready(self) -> None:
        from krov.telegram import receivers

        receivers.connect()
        from krov.core import retention
        from krov.telegram import services

        retention.register(
            "telegram",
            "sent calls (after a day) and processed updates (after a week)",
            services.purge_old,
        )
        from krov.core import health, home
        from krov.telegram import home as telegram_home

        home.register("telegram-admin", telegram_home.admin_panel)
        health.register("telegram", services.health, vital=False)

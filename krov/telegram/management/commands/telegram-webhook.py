from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from krov.telegram import client
from krov.telegram.intake import USED_KINDS


class Command(BaseCommand):
    help = (
        "Register Krov's webhook with Telegram (url, secret token, allowed updates, max "
        "connections), set the bot's neutral name and description, and show getWebhookInfo."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("url", nargs="?", help="public https URL of /telegram/webhook")
        parser.add_argument("--max-connections", type=int, default=40)
        parser.add_argument("--info", action="store_true", help="only show getWebhookInfo")

    def handle(self, *args, url=None, max_connections=40, info=False, **options) -> None:
        if not client.configured():
            raise CommandError("TELEGRAM_BOT_TOKEN is not set")
        if not info:
            if not url:
                url = settings.KROV_SITE_URL.rstrip("/") + "/telegram/webhook"
            if not settings.TELEGRAM_WEBHOOK_SECRET:
                raise CommandError("TELEGRAM_WEBHOOK_SECRET is not set")
            if not 1 <= max_connections <= 100:
                raise CommandError("--max-connections must be between 1 and 100")
        with client.Client() as api:
            try:
                if not info:
                    api.call(
                        "set_webhook",
                        {
                            "url": url,
                            "secret_token": settings.TELEGRAM_WEBHOOK_SECRET,
                            "allowed_updates": list(USED_KINDS),
                            "max_connections": max_connections,
                            "drop_pending_updates": False,
                        },
                    )
                    self.stdout.write(f"Webhook set to {url}")
                    # Neutral by design: a glance at a phone's chat list reveals nothing.
                    api.call("set_my_name", {"name": settings.KROV_TELEGRAM_BOT_NAME})
                    description = settings.KROV_TELEGRAM_BOT_DESCRIPTION
                    api.call("set_my_description", {"description": description})
                    api.call("set_my_short_description", {"short_description": description})
                    self.stdout.write(f"Bot name: {settings.KROV_TELEGRAM_BOT_NAME}")
                webhook = api.call("get_webhook_info", {})
            except (client.Permanent, client.Transient) as error:
                raise CommandError(f"Telegram answered: {error}") from error
        self.stdout.write(f"url: {webhook.url or '(none)'}")
        self.stdout.write(f"pending updates: {webhook.pending_update_count}")
        self.stdout.write(f"max connections: {webhook.max_connections}")
        self.stdout.write(f"allowed updates: {', '.join(webhook.allowed_updates or [])}")
        if webhook.last_error_message:
            self.stdout.write(f"last error: {webhook.last_error_message}")

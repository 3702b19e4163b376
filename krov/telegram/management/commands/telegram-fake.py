from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from krov.telegram.fake import FAKE_TOKEN, FakeBotAPI


class Command(BaseCommand):
    help = "Run the fake Telegram Bot API (for development and tests; never in production)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8081)
        parser.add_argument("--token", default=FAKE_TOKEN)

    def handle(self, *args, port: int = 8081, token: str = FAKE_TOKEN, **options) -> None:
        api = FakeBotAPI(token=token, port=port).start()
        self.stdout.write(f"Fake Bot API on {api.base_url} (token {token})")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            api.stop()

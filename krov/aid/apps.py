from __future__ import annotations

from django.apps import AppConfig


class AidConfig(AppConfig):
    name = "krov.aid"
    label = "aid"
    verbose_name = "Mutual aid"

    def ready(self) -> None:
        from krov.aid import receivers  # noqa: F401 - connects signal receivers

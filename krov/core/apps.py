from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "krov.core"
    label = "core"
    verbose_name = "Krov core"

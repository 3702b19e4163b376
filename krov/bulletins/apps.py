from __future__ import annotations

from django.apps import AppConfig


class BulletinsConfig(AppConfig):
    name = "krov.bulletins"
    label = "bulletins"
    verbose_name = "Bulletins"

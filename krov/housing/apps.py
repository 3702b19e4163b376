from __future__ import annotations

from django.apps import AppConfig


class HousingConfig(AppConfig):
    name = "krov.housing"
    label = "housing"
    verbose_name = "Housing"

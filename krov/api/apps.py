from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "krov.api"
    label = "krov_api"
    verbose_name = "Public API"

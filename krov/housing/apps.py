from __future__ import annotations

from django.apps import AppConfig


class HousingConfig(AppConfig):
    name = "krov.housing"
    label = "housing"
    verbose_name = "Housing"

    def ready(self) -> None:
        from krov.core import retention
        from krov.housing import services

        retention.register(
            "housing conversations",
            "conversations about listings that left the board, after KROV_HOUSING_RETENTION_DAYS",
            services.purge_conversations,
        )
        retention.register(
            "housing photos",
            "photos of listings that left the board, after KROV_HOUSING_RETENTION_DAYS",
            services.purge_photos,
        )

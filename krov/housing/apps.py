from __future__ import annotations

from django.apps import AppConfig


class HousingConfig(AppConfig):
    name = "krov.housing"
    label = "housing"
    verbose_name = "Housing"

    def ready(self) -> None:
        from krov.core import audit, home, retention
        from krov.housing.models import Flag

        audit.register_detail_choices("reason", lambda: Flag.Reason.choices)
        from krov.housing import home as housing_home
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
        from krov.core import undo

        undo.register("housing.ban", services.undo_ban)
        home.register("housing-member", housing_home.member_panel)
        home.register("housing-moderation", housing_home.moderation_panel)
        home.register_tool("housing-moderation", housing_home.moderation_tool, order=45)
        home.register_tool("housing-member", housing_home.member_tool, order=70)

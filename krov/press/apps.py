from __future__ import annotations

from django.apps import AppConfig


class PressConfig(AppConfig):
    name = "krov.press"
    label = "press"
    verbose_name = "Press watch"

    def ready(self) -> None:
        from krov.core import audit, home, retention
        from krov.press import home as press_home
        from krov.press import services
        from krov.press.models import Story

        home.register("press-editor", press_home.editor_panel)
        home.register_tool("press-editor", press_home.editor_tool, order=55)
        retention.register(
            "press",
            "press stories past KROV_PRESS_KEEP_DAYS, except those a bulletin answers",
            services.purge_old_stories,
        )
        for key in ("old", "new"):  # a story's status, before and after an editor marked it
            audit.register_detail_choices(key, lambda: Story.Status.choices)

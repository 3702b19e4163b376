from __future__ import annotations

from django.apps import AppConfig


class PressConfig(AppConfig):
    name = "krov.press"
    label = "press"
    verbose_name = "Press watch"

    def ready(self) -> None:
        from krov.core import home
        from krov.press import home as press_home

        home.register("press-editor", press_home.editor_panel)

from __future__ import annotations

from django.apps import AppConfig


class BulletinsConfig(AppConfig):
    name = "krov.bulletins"
    label = "bulletins"
    verbose_name = "Bulletins"

    def ready(self) -> None:
        from krov.bulletins import home as bulletins_home
        from krov.bulletins import services, signals, views
        from krov.core import audit, home, oldslugs, search, sitemap, translated

        signals.connect()

        # The audit log page names the language a tag translation was written in (as the
        # events app's venue translations: the same codes, registered once more harmlessly).
        audit.register_detail_choices("language", translated.translatable_languages)

        search.register(
            "bulletins",
            find=services.search_page,
            template="bulletins/partials/_search_results.html",
            limit=50,
            position=30,
        )
        sitemap.register("bulletins", views.sitemap_pages)
        oldslugs.register(
            "bulletins.post",
            ["bulletins:detail", "bulletins:cover", "bulletins:edit", "bulletins:workflow"],
        )
        home.register("bulletins-editor", bulletins_home.editor_panel)
        home.register_tool("bulletins-editor", bulletins_home.editor_tool, order=50)
        home.register_section("bulletins", bulletins_home.latest_section, namespace="bulletins")

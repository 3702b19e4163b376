from __future__ import annotations

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "krov.directory"
    label = "directory"
    verbose_name = "Directory and guides"

    def ready(self) -> None:
        from krov.core import home, oldslugs, search, undo
        from krov.directory import home as directory_home
        from krov.directory import services

        search.register(
            "guides",
            find=services.search_guides,
            template="directory/partials/_search_guides.html",
            limit=20,
            position=10,
        )
        search.register(
            "organisations",
            find=services.search_organisations,
            template="directory/partials/_search_organisations.html",
            limit=20,
            position=20,
        )
        home.register("directory-review", directory_home.panel)
        home.register_tool("directory-review", directory_home.tool, order=60)
        undo.register("directory.reject", services.undo_reject)
        oldslugs.register("directory.organisation", ["directory:organisation", "directory:correct"])
        oldslugs.register(
            "directory.guide",
            ["directory:guide", "directory:guide_edit", "directory:guide_verify"],
        )

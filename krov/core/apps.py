from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "krov.core"
    label = "core"
    verbose_name = "Krov core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.utils.module_loading import autodiscover_modules

        from krov.core import checks, files, notify, retention  # noqa: F401 - checks register

        # Each app declares the notifications it sends in its `notices.py` (krov.core.notify);
        # the worker, which delivers them, must know every kind.
        autodiscover_modules("notices")
        connection_created.connect(files.owner_only_sqlite, dispatch_uid="krov-owner-only-sqlite")

        retention.register(
            "notifications", "delivered notifications (after 7 days)", notify.purge_delivered
        )
        retention.register("cache", "expired cache entries", retention.prune_file_cache)
        retention.register(
            "mail", "development mail files (after a day)", retention.prune_mail_folder
        )
        retention.register("sessions", "expired sessions", retention.prune_sessions)

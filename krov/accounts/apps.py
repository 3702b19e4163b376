from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "krov.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from krov.accounts import receivers, roles  # noqa: F401 - connects signal receivers

        post_migrate.connect(roles.sync_roles_after_migrate, sender=self)

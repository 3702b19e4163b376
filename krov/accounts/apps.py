from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "krov.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from allauth.mfa.models import Authenticator

        from krov.accounts.roles import ROLE_LABELS
        from krov.core import audit

        audit.register_detail_choices("type", lambda: Authenticator.Type.choices)
        audit.register_detail_choices("role", lambda: ROLE_LABELS.items())
        from krov.accounts import receivers, roles  # noqa: F401 - connects signal receivers

        post_migrate.connect(roles.sync_roles_after_migrate, sender=self)
        from krov.accounts import mfa_secrets
        from krov.core.services import register_rotator

        register_rotator("mfa.Authenticator.data", mfa_secrets.rotate)
        from krov.accounts import home as accounts_home
        from krov.core import home

        home.register_tool("accounts-admin", accounts_home.admin_tool, order=8)

from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AidConfig(AppConfig):
    name = "krov.aid"
    label = "aid"
    verbose_name = "Mutual aid"

    def ready(self) -> None:
        from krov.aid.models import TrustLevel
        from krov.core import audit

        for key in ("old", "new"):  # a volunteer's trust level, before and after
            audit.register_detail_choices(key, lambda: TrustLevel.choices)
        from krov.aid import checks, receivers  # noqa: F401 - registers checks, receivers
        from krov.aid.seed import seed_after_migrate

        post_migrate.connect(seed_after_migrate, sender=self)
        from krov.aid import services
        from krov.core import retention

        retention.register(
            "aid",
            "closed cases and spam past KROV_RETENTION_DAYS / KROV_SPAM_RETENTION_DAYS",
            services.purge,
        )
        retention.register(
            "aid-pending-keys",
            "case keys made for Telegram requests that never became a case, after a day",
            services.purge_pending_keys,
        )
        from krov.aid import home as aid_home
        from krov.core import home, undo

        undo.register("aid.spam", services.undo_spam)
        from krov.aid.services import email_notice

        # A requester's email stranded by a worker restart: readers hand the case key over.
        services.register_resealer("web", email_notice.waiting_notices, email_notice.reseal_notice)
        home.register("aid-volunteer", aid_home.volunteer_panel)
        home.register("aid-coordinator", aid_home.coordinator_panel)
        home.register_tool("aid-coordinator", aid_home.coordinator_tool, order=5)
        home.register_tool("aid-volunteer", aid_home.volunteer_tool, order=10)

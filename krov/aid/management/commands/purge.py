from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from krov.aid import services


class Command(BaseCommand):
    help = (
        "Apply the retention policy now: closed cases older than KROV_RETENTION_DAYS and spam "
        "older than KROV_SPAM_RETENTION_DAYS lose their text, notes and contact handles; "
        "housing conversations about listings that left the board are deleted "
        "KROV_HOUSING_MESSAGE_DAYS after their last message."
    )

    def handle(self, *args, **options) -> None:
        counts = services.purge()
        self.stdout.write(
            f"Purged {counts['closed']} closed case(s) older than {settings.KROV_RETENTION_DAYS} "
            f"days and {counts['spam']} spam request(s) older than "
            f"{settings.KROV_SPAM_RETENTION_DAYS} days."
        )
        from krov.housing.services import purge_conversations

        self.stdout.write(
            f"Deleted {purge_conversations()} housing conversation(s) about listings that left "
            f"the board, older than {settings.KROV_HOUSING_MESSAGE_DAYS} days."
        )

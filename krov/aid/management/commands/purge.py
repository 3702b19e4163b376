from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from krov.aid import services


class Command(BaseCommand):
    help = (
        "Apply the retention policy now: closed cases older than KROV_RETENTION_DAYS and spam "
        "older than KROV_SPAM_RETENTION_DAYS lose their text, notes and contact handles; "
        "housing conversations and photos of listings that left the board are deleted "
        "after KROV_HOUSING_RETENTION_DAYS."
    )

    def handle(self, *args, **options) -> None:
        counts = services.purge()
        self.stdout.write(
            f"Purged {counts['closed']} closed case(s) older than {settings.KROV_RETENTION_DAYS} "
            f"days and {counts['spam']} spam request(s) older than "
            f"{settings.KROV_SPAM_RETENTION_DAYS} days."
        )
        from krov.housing.services import purge_conversations, purge_photos

        self.stdout.write(
            f"Deleted {purge_conversations()} housing conversation(s) and {purge_photos()} "
            f"photo(s) of listings that left the board more than "
            f"{settings.KROV_HOUSING_RETENTION_DAYS} days ago."
        )

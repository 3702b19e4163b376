from __future__ import annotations

from django.core.management.base import BaseCommand

from krov.core.services import rotate_field_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field with the newest key in KROV_FIELD_KEYS. "
        "Put the new key first, run this, then drop the old key."
    )

    def handle(self, *args, **options) -> None:
        counts = rotate_field_keys()
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"done: {sum(counts.values())} values"))

from __future__ import annotations

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print a new Fernet key for KROV_FIELD_KEYS (put it first, then run rotate-keys)."
    requires_system_checks: list = []

    def handle(self, *args, **options) -> None:
        self.stdout.write(Fernet.generate_key().decode())

"""Django's `createsuperuser`, refused: a superuser would pass every check Krov makes."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Refused in Krov; use `krov create-admin EMAIL --pseudonym NAME`."

    def add_arguments(self, parser) -> None:
        parser.add_argument("args", nargs="*")
        parser.add_argument("--noinput", "--no-input", action="store_true")
        parser.add_argument("--email")
        parser.add_argument("--username")
        parser.add_argument("--database")

    def handle(self, *args, **options) -> None:
        raise CommandError(
            "Krov has no superusers: use `krov create-admin EMAIL --pseudonym NAME` "
            "(an administrator without access to cases)."
        )

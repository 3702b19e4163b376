from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Load demo data (idempotent). Every Krov app with a demo.py contributes its own. "
        "Refuses to run with KROV_DEBUG off unless --force is given."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="run even with KROV_DEBUG off")

    def handle(self, *args, force: bool = False, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("demo data is for development; pass --force to load it anyway")
        lines: list[str] = []
        with transaction.atomic():
            for config in apps.get_app_configs():
                if not config.name.startswith("krov."):
                    continue
                try:
                    module = import_module(f"{config.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{config.name}.demo":
                        raise
                    continue
                lines.extend(module.load())
        for line in lines:
            self.stdout.write(line)

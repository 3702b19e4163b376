from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from krov.housing import index
from krov.housing.parsing import parse_month


class Command(BaseCommand):
    help = "Recompute the rent index: --rebuild for every month, or --month YYYY-MM."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="recompute every month")
        parser.add_argument("--month", action="append", default=[], help="a month, YYYY-MM")

    def handle(self, *args, rebuild: bool = False, month: list[str], **options) -> None:
        if not rebuild and not month:
            raise CommandError("say --rebuild or --month YYYY-MM")
        started = time.perf_counter()
        if rebuild:
            done = index.rebuild()
        else:
            try:
                done = index.recompute(parse_month(m) for m in month)
            except ValueError as error:
                raise CommandError(str(error)) from None
        self.stdout.write(
            f"Rent index recomputed for {done} month(s) in {time.perf_counter() - started:.2f} s."
        )

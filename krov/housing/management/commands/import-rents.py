from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from krov.housing import index
from krov.housing.importer import ImportRefused, import_rents


class Command(BaseCommand):
    help = (
        "Import rent observations from a CSV file (columns: date, district, size_m2, rent, "
        "currency, source). Bad rows are reported by line and skipped; the good rows are "
        "written in one transaction. Importing the same file again adds nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the CSV file (UTF-8, with or without BOM)")
        parser.add_argument(
            "--strict", action="store_true", help="import nothing if any row is rejected"
        )

    def handle(self, *args, file: str, strict: bool = False, **options) -> None:
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None
        try:
            report = import_rents(data, file_name=path.name, strict=strict)
        except ImportRefused as error:
            raise CommandError(f"{path.name}: {error}; nothing was imported") from None
        for line in report.lines():
            self.stdout.write(line)
        if report.months:
            started = time.perf_counter()
            done = index.recompute(report.months)
            self.stdout.write(
                f"Rent index recomputed for {done} month(s) "
                f"in {time.perf_counter() - started:.2f} s."
            )
        if strict and not report.written:
            raise CommandError("rows were rejected; nothing was imported")

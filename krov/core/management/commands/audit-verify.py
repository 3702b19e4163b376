from __future__ import annotations

from django.core.management.base import BaseCommand

from krov.core import audit


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain: exits 1 at the first row that was removed, changed "
        "or reordered; prints the head hash to keep elsewhere (a rewritten history will not "
        "end in it)."
    )

    def handle(self, *args, **options) -> None:
        verdict = audit.verify()
        if not verdict.ok:
            self.stderr.write(
                f"audit log BROKEN at row {verdict.broken_at}: {verdict.reason} "
                f"({verdict.rows} rows read)"
            )
            raise SystemExit(1)
        self.stdout.write(f"audit log intact: {verdict.rows} rows, head {verdict.head}")

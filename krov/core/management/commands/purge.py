from __future__ import annotations

from django.core.management.base import BaseCommand

from krov.core import retention


class Command(BaseCommand):
    help = (
        "Apply every retention rule now (the worker also does it, hourly): aid cases, event "
        "attendees, housing conversations and photos, Telegram calls and updates, delivered "
        "notifications, expired cache entries, development mail."
    )

    def handle(self, *args, **options) -> None:
        results = retention.apply_all()
        failed = False
        for label, (description, _rule) in retention.rules().items():
            result = results[label]
            if result == -1:
                failed = True
                self.stderr.write(f"{label}: FAILED (see the log)")
                continue
            if isinstance(result, dict):
                shown = ", ".join(f"{count} {kind}" for kind, count in result.items())
            else:
                shown = str(result)
            self.stdout.write(f"{label}: {shown} removed ({description})")
        if failed:
            raise SystemExit(1)

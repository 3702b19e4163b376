from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from krov.core import backup


class Command(BaseCommand):
    help = (
        "Write an encrypted backup (database and media) to a new file, readable only with "
        "the age identity of one of the recipients. See docs/operations.md."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--to", required=True, type=Path, help="the new backup file")
        parser.add_argument(
            "--recipient",
            action="append",
            required=True,
            help="an operator's age public key (age1...); repeat for several",
        )

    def handle(self, *args, **options) -> None:
        try:
            recipients = backup.parse_recipients(options["recipient"])
            summary = backup.create(options["to"], recipients)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            _(
                "Backup written to %(path)s: %(vendor)s database, %(media)s, %(size)s bytes, "
                "%(keys)s."
            )
            % {
                "path": options["to"],
                "vendor": summary.vendor,
                "media": ngettext(
                    "%(count)s media file", "%(count)s media files", summary.media_files
                )
                % {"count": summary.media_files},
                "size": summary.size,
                "keys": ngettext(
                    "encrypted to %(count)s key", "encrypted to %(count)s keys", len(recipients)
                )
                % {"count": len(recipients)},
            }
        )

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from krov.core import backup


class Command(BaseCommand):
    help = (
        "Write an encrypted backup (database and media) to a new file, readable only with "
        "the age identity of one of the recipients; with --prune, delete the backups in a "
        "folder that are older than the retention promise allows. See docs/operations.md."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--to", type=Path, help="the new backup file")
        parser.add_argument(
            "--recipient",
            action="append",
            default=[],
            help="an operator's age public key (age1...); repeat for several",
        )
        parser.add_argument(
            "--prune",
            type=Path,
            metavar="DIR",
            help="delete the backups (*.age) in DIR made --keep-days or more days ago "
            "(after writing the new one, if --to is given)",
        )
        parser.add_argument(
            "--keep-days",
            type=int,
            help="days a backup is kept (default and most: KROV_RETENTION_DAYS)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="with --prune: list, delete nothing"
        )

    def handle(self, *args, **options) -> None:
        if options["to"] is None and options["prune"] is None:
            raise CommandError(
                _("Give --to FILE (with --recipient) to back up, --prune DIR, or both.")
            )
        try:
            if options["prune"] is not None:
                # Refuse a --keep-days beyond the promise before writing anything.
                backup.prune_limit(options["keep_days"])
            if options["to"] is not None:
                self.write(options["to"], options["recipient"])
            if options["prune"] is not None:
                self.prune(options["prune"], options["keep_days"], options["dry_run"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None

    def write(self, out: Path, recipient_keys: list[str]) -> None:
        recipients = backup.parse_recipients(recipient_keys)
        summary = backup.create(out, recipients)
        self.stdout.write(
            _(
                "Backup written to %(path)s: %(vendor)s database, %(media)s, %(size)s bytes, "
                "%(keys)s."
            )
            % {
                "path": out,
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

    def prune(self, folder: Path, keep_days: int | None, dry_run: bool) -> None:
        days = backup.prune_limit(keep_days)
        old = backup.prune(folder, keep_days=days, dry_run=dry_run)
        for path in old:
            self.stdout.write(
                (_("Would delete %(path)s") if dry_run else _("Deleted %(path)s")) % {"path": path}
            )
        self.stdout.write(
            ngettext(
                "%(count)s backup in %(folder)s was %(days)s or more days old.",
                "%(count)s backups in %(folder)s were %(days)s or more days old.",
                len(old),
            )
            % {"count": len(old), "folder": folder, "days": days}
        )

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from krov.core import backup


class Command(BaseCommand):
    help = (
        "Load an encrypted backup (`krov backup`) into an empty database and its media into "
        "MEDIA_ROOT. Then run `krov migrate` if this release is newer than the backup's."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="source", required=True, type=Path)
        parser.add_argument(
            "--identity",
            required=True,
            type=Path,
            help="an age identity file (AGE-SECRET-KEY-1...), as age-keygen writes it",
        )
        parser.add_argument(
            "--database-url",
            default="",
            help="restore into this database instead of DATABASE_URL's (it must be empty)",
        )

    def handle(self, *args, **options) -> None:
        database = None
        if options["database_url"]:
            try:
                database = dict(dj_database_url.parse(options["database_url"]))
            except (ValueError, KeyError):
                raise CommandError(_("--database-url is not a database URL.")) from None
        else:
            # Krov's own connection must not hold the database while it is filled.
            connections.close_all()
        try:
            identities = backup.load_identities(options["identity"])
            summary = backup.restore(options["source"], identities, database=database)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            _(
                "Restored a %(vendor)s database and %(media)s. Next: `krov migrate`, "
                "then start Krov with the same KROV_FIELD_KEYS and KROV_SECRET_KEY."
            )
            % {
                "vendor": summary.vendor,
                "media": ngettext(
                    "%(count)s media file", "%(count)s media files", summary.media_files
                )
                % {"count": summary.media_files},
            }
        )

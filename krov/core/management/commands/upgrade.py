from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, SystemCheckError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from krov.core import backup


class Command(BaseCommand):
    help = (
        "After installing a new release: refuse unless `krov backup` finished recently, "
        "then apply the migrations and run `check --deploy`."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--backup-hours",
            type=int,
            default=None,
            help="how old the last backup may be (default KROV_UPGRADE_BACKUP_HOURS, 24)",
        )

    def handle(self, *args, **options) -> None:
        hours = options["backup_hours"] or settings.KROV_UPGRADE_BACKUP_HOURS
        finished = backup.last_backup()
        if finished is None or timezone.now() - finished > timedelta(hours=hours):
            raise CommandError(
                _(
                    "No backup of this instance in the last %(hours)s hours: run `krov backup "
                    "--to FILE --recipient AGE_PUBLIC_KEY` first, and keep the file off this "
                    "server."
                )
                % {"hours": hours}
            )
        self.stdout.write(
            _("Last backup finished %(when)s.") % {"when": finished.isoformat(timespec="seconds")}
        )

        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        names = [f"{migration.app_label}.{migration.name}" for migration, _back in plan]
        call_command("migrate", interactive=False, verbosity=0)
        if names:
            self.stdout.write(
                ngettext(
                    "Applied %(count)s migration: %(names)s",
                    "Applied %(count)s migrations: %(names)s",
                    len(names),
                )
                % {"count": len(names), "names": ", ".join(names)}
            )
        else:
            self.stdout.write(_("No migrations to apply."))

        try:
            call_command("check", deploy=True, stdout=self.stdout, stderr=self.stderr)
        except SystemCheckError as exc:
            raise CommandError(
                _("The migrations are applied, but `check --deploy` found errors:\n%(errors)s")
                % {"errors": exc}
            ) from None
        self.stdout.write(_("`check --deploy` passed. Restart the web servers and the worker."))

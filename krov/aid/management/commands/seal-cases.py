from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from krov.aid import services


class Command(BaseCommand):
    help = (
        "Seal cases taken in before sealing was set up, to the team key (only its public "
        "half is needed). Closed cases by default; open ones are sealed on their requester's "
        "next visit or message, or now with --open (a web requester then no longer reads "
        "the replies on their page). Afterwards rotate the field keys (krov rotate-keys) "
        "and destroy the old one."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--open",
            action="store_true",
            help="also seal open cases now (their requester's page can no longer open them)",
        )

    def handle(self, *args, **options) -> None:
        if not services.sealing_ready():
            raise CommandError(
                "No team key yet: a coordinator makes it under My key (/en/aid/keys/)."
            )
        sealed = 0
        for case in services.sealable_cases(include_open=options["open"]).iterator():
            sealed += services.seal_existing_case(case)
        waiting = services.sealable_cases(include_open=True).count()
        self.stdout.write(self.style.SUCCESS(f"sealed: {sealed} cases"))
        if waiting:
            self.stdout.write(
                f"not sealed yet: {waiting} open cases (sealed on their requester's next visit)"
            )

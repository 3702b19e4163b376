"""`krov press add-source URL [--name NAME] [--language sr]` and `krov press fetch`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from krov.press import fetching, services


class Command(BaseCommand):
    help = "Watch a feed of the host country's press, or fetch every watched feed now."

    def add_arguments(self, parser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        add = commands.add_parser("add-source", help="watch an RSS or Atom feed")
        add.add_argument("url")
        add.add_argument("--name", default="")
        add.add_argument("--language", default="sr")
        commands.add_parser("fetch", help="fetch every watched feed now")

    def handle(self, *args, action: str, **options) -> None:
        if action == "add-source":
            try:
                source = services.add_source(
                    options["url"], name=options["name"], language=options["language"]
                )
            except services.PressError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"Watching {source.name} ({source.url}).")
            return
        counts = services.fetch_all()
        for source in services.sources().filter(active=True):
            state = fetching.message(source.last_error) if source.last_error else "ok"
            self.stdout.write(f"{source.name}: {state}")
        self.stdout.write(
            f"{counts['sources']} sources, {counts['new']} new stories, {counts['failed']} failed."
        )

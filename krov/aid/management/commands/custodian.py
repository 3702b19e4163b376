"""`krov custodian add NAME | list | revoke NAME`: key custodians, on the server.

(`krov custodian init|run|fingerprint` run on the custodian's own machine: krov/aid/custodian.py.)
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from krov.aid import services


class Command(BaseCommand):
    help = "Add, list or revoke key custodians (see docs/operations.md)."

    def add_arguments(self, parser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        add = commands.add_parser("add", help="a new custodian; prints its token once")
        add.add_argument("name")
        add.add_argument("--token-file", help="write the token to this new file (mode 600) instead")
        commands.add_parser("list", help="custodians, their fingerprints and when last seen")
        revoke = commands.add_parser("revoke", help="its token and key open nothing any more")
        revoke.add_argument("name")

    def handle(self, *args, action: str, **options) -> None:
        if action == "add":
            self.add(options["name"], options.get("token_file"))
        elif action == "list":
            self.list()
        else:
            custodian = services.custodian_by_name(options["name"])
            if custodian is None or custodian.revoked_at is not None:
                raise CommandError(f"No custodian named {options['name']!r} is active.")
            services.revoke_custodian(custodian)
            self.stdout.write(
                f"Revoked {custodian.name}. If it held the team key, the next coordinator "
                "to open Krov is asked to renew it."
            )

    def add(self, name: str, token_file: str | None) -> None:
        import os

        # The file is made (new, mode 600) before the custodian: a path that cannot be written
        # stops here, and no custodian is left behind whose token nobody has.
        descriptor = None
        if token_file:
            try:
                descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as error:
                raise CommandError(f"The token file cannot be made: {error}") from None
        try:
            custodian, token = services.add_custodian(name)
        except BaseException as error:
            # Whatever stopped it, no empty token file is left behind to be mistaken for one.
            if descriptor is not None and token_file:
                os.close(descriptor)
                os.unlink(token_file)
            if isinstance(error, services.AidError):
                raise CommandError(str(error)) from None
            raise
        if descriptor is not None:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(token + "\n")
            self.stdout.write(f"Added {custodian.name}; its token is in {token_file}.")
        else:
            self.stdout.write(f"Added {custodian.name}. Its token (shown once):\n{token}")
        self.stdout.write(
            "On the custodian's machine: krov custodian init --url https://... "
            "--token-file TOKEN --key-file custodian-key.json"
        )

    def list(self) -> None:
        found = services.custodians()
        if not found:
            self.stdout.write("No custodians.")
        for custodian, key in found:
            fingerprint = services.fingerprint(key.public_key) if key else "no key yet"
            last = custodian.last_seen_at
            seen = last.isoformat(timespec="minutes") if last else "never"
            self.stdout.write(f"{custodian.name}\t{fingerprint}\tlast seen {seen}")

"""`krov create-admin EMAIL --pseudonym NAME`: the first administrator, the Krov way.

Not Django's `createsuperuser`: a superuser passes every permission check, while Krov's
administrator runs accounts and the server and sees no case. The password is asked for
twice (or read from `--password-file`); the account must add a second factor at first
sign-in.
"""

from __future__ import annotations

import getpass
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from krov.accounts import roles, services


class Command(BaseCommand):
    help = "Create an administrator account (roles: member, admin; no case access)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--pseudonym", required=True, help="the name others see")
        parser.add_argument(
            "--password-file", help="read the password from this file instead of asking"
        )

    def handle(self, *args, email: str, pseudonym: str, password_file: str | None, **options):
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"not an email address: {email!r}") from None
        if password_file:
            try:
                password = Path(password_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise CommandError(f"cannot read {password_file}: {exc.strerror}") from None
        else:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("the two passwords differ")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        try:
            user = services.create_account(
                email=email,
                pseudonym=pseudonym,
                password=password,
                roles=[roles.ADMIN],
                email_verified=True,
            )
        except services.AccountError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"administrator {user.pseudonym} created; sign in at /en/accounts/login/ "
                "and add a second factor when asked"
            )
        )

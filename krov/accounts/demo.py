"""Demo accounts, one per role. Only for `krov demo` on a development machine."""

from __future__ import annotations

from krov.accounts import roles, services
from krov.accounts.models import User

DEMO_PASSWORD = "krov-demo-2026"  # noqa: S105 - public demo credential, DEBUG only

DEMO_ACCOUNTS = [
    ("member@demo.krov.local", "Lastochka", [roles.MEMBER]),
    ("volunteer@demo.krov.local", "Veter", [roles.VOLUNTEER]),
    ("coordinator@demo.krov.local", "Mayak", [roles.COORDINATOR]),
    ("organiser@demo.krov.local", "Kostyor", [roles.ORGANISER]),
    ("editor@demo.krov.local", "Pero", [roles.EDITOR]),
    # The second editor who approves (bulletins are published by two editors).
    ("editor2@demo.krov.local", "Drugo Pero", [roles.EDITOR]),
    ("admin@demo.krov.local", "Krysha", [roles.ADMIN]),
]


def load() -> list[str]:
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD}):"]
    for email, pseudonym, role_names in DEMO_ACCOUNTS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = services.create_account(
                email=email,
                pseudonym=pseudonym,
                password=DEMO_PASSWORD,
                roles=role_names,
                email_verified=True,
            )
        else:
            services.set_roles(user, role_names, actor=None)
        note = ""
        if services.requires_mfa(user):
            # Demo volunteers get a key made for them (krov/aid/demo.py prints it below).
            note = (
                "  (two-factor key printed below)"
                if roles.VOLUNTEER in role_names
                else "  (sets up two-factor authentication at first login)"
            )
        lines.append(f"  {role_names[0]:<12} {email}{note}")
    return lines

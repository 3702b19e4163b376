"""The `krov` console script: Django's manage.py with Krov's settings.

A bad environment variable ends start-up with one line that names it, not a traceback.
"""

from __future__ import annotations

import os
import sys

# `krov custodian init|run|fingerprint` run on the custodian's machine (krov.aid.custodian);
# `krov custodian add|list|revoke` are the server's management command.
CUSTODIAN_CLIENT = {"init", "run", "fingerprint", "-h", "--help"}


def load_settings() -> None:
    """Import the settings now, so a configuration error surfaces as one clear line."""
    from django.conf import settings

    from krov.exceptions import SettingsError

    try:
        settings.INSTALLED_APPS  # noqa: B018 - forces the settings module to load
    except SettingsError as exc:
        sys.stderr.write(f"krov: configuration error: {exc}\n")
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> None:
    argv = argv if argv is not None else sys.argv
    if argv[1:2] == ["custodian"] and argv[2:3] and argv[2] in CUSTODIAN_CLIENT:
        # The custodian's own machine has Krov's package but no settings and no database.
        from krov.aid import custodian

        raise SystemExit(custodian.main(argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "krov.settings")
    load_settings()
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()

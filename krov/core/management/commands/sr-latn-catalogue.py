from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from krov.core.services import to_latin


def latin_catalogue(source: polib.POFile) -> polib.POFile:
    """The sr-latn catalogue derived from the Cyrillic sr one, entry by entry."""
    target = polib.POFile(wrapwidth=source.wrapwidth)
    target.metadata = dict(source.metadata)
    target.metadata["Language"] = "sr_Latn"
    for entry in source:
        if entry.obsolete:
            continue
        copy = polib.POEntry(
            msgid=entry.msgid,
            msgid_plural=entry.msgid_plural,
            msgctxt=entry.msgctxt,
            msgstr=to_latin(entry.msgstr) if entry.msgstr else "",
            msgstr_plural={k: to_latin(v) for k, v in entry.msgstr_plural.items()},
            occurrences=entry.occurrences,
            flags=list(entry.flags),
            comment=entry.comment,
            tcomment=entry.tcomment,
        )
        target.append(copy)
    return target


def catalogue_path(locale: str, domain: str = "django") -> Path:
    return Path(settings.LOCALE_PATHS[0]) / locale / "LC_MESSAGES" / f"{domain}.po"


class Command(BaseCommand):
    help = "Write the sr_Latn catalogue from the Serbian Cyrillic one (never edit it by hand)."
    requires_system_checks: list = []

    def handle(self, *args, **options) -> None:
        for domain in ("django", "djangojs"):
            source_path = catalogue_path("sr", domain)
            if not source_path.exists():
                if domain == "django":
                    raise CommandError(f"{source_path} does not exist; run makemessages first")
                continue
            target_path = catalogue_path("sr_Latn", domain)
            target_path.parent.mkdir(parents=True, exist_ok=True)
            latin_catalogue(polib.pofile(str(source_path))).save(str(target_path))
            self.stdout.write(f"wrote {target_path}")

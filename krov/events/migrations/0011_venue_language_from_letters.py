"""Venues made before they had a language get one from their letters: Serbian in Cyrillic
"sr", Serbian in Latin "sr-latn"; Russian or Ukrainian letters that language; other Latin
text (an English or German note) "en". An administrator corrects a wrong guess in the
admin; the guess only decides how pages mark and convert the venue's texts."""

from __future__ import annotations

from django.db import migrations

from krov.core import scripts


def guess_language(texts: list[str]) -> str:
    text = " ".join(part for part in texts if part)
    if not scripts.is_serbian(text):
        if any("\u0400" <= char <= "\u04ff" for char in text):  # Cyrillic
            return scripts.slug_language(text)  # "ru" or "uk"
        return "en"
    return "sr" if any(char in scripts.SERBIAN_CYRILLIC for char in text.lower()) else "sr-latn"


def from_letters(apps, schema_editor):
    Venue = apps.get_model("events", "Venue")
    for venue in Venue.objects.only("pk", "name", "address", "accessibility").iterator():
        language = guess_language([venue.name, venue.address, venue.accessibility])
        Venue.objects.filter(pk=venue.pk).update(language=language)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0010_venue_language"),
    ]

    operations = [
        migrations.RunPython(from_letters, migrations.RunPython.noop),
    ]

"""Every RSVP made before short check-in codes gets one (their QR codes keep working)."""

from __future__ import annotations

import secrets

from django.db import migrations

# As krov.events.services.CHECKIN_ALPHABET when this was written: a migration keeps its own.
ALPHABET = "ACEFGHJKMNPRTUVWXY34679"


def give_codes(apps, schema_editor):
    Rsvp = apps.get_model("events", "Rsvp")
    taken: dict[int, set[str]] = {}
    for rsvp in Rsvp.objects.filter(checkin_code__isnull=True).only("pk", "event_id"):
        used = taken.setdefault(rsvp.event_id, set())
        code = ""
        while not code or code in used:
            code = "".join(secrets.choice(ALPHABET) for _ in range(8))
        used.add(code)
        Rsvp.objects.filter(pk=rsvp.pk).update(checkin_code=code)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0006_rsvp_checkin_code"),
    ]

    operations = [
        migrations.RunPython(give_codes, migrations.RunPython.noop),
    ]

"""Belgrade's seventeen municipalities (krov/housing/districts.py)."""

from __future__ import annotations

from django.db import migrations


def seed(apps, schema_editor):
    from krov.housing.districts import ensure

    ensure(apps.get_model("housing", "District"))


class Migration(migrations.Migration):
    dependencies = [("housing", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

from __future__ import annotations

from django.db import migrations

from krov.aid.seed import seed


class Migration(migrations.Migration):
    dependencies = [("aid", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0002_remake_slugs"),
    ]

    operations = [
        migrations.AddField(
            model_name="proposal",
            name="told_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]

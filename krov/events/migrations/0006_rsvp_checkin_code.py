from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0005_sequence"),
    ]

    operations = [
        migrations.AddField(
            model_name="rsvp",
            name="checkin_code",
            field=models.CharField(blank=True, editable=False, max_length=8, null=True),
        ),
    ]

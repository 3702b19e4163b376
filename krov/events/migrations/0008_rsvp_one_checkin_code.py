from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0007_rsvp_checkin_code_existing"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="rsvp",
            constraint=models.UniqueConstraint(
                fields=("event", "checkin_code"), name="events_rsvp_one_checkin_code"
            ),
        ),
    ]

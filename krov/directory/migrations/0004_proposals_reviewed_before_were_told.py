"""Proposals reviewed before `told_at` existed were told at once, when they were reviewed:
mark them so, else the task that tells rejected proposers would tell them again."""

from __future__ import annotations

from django.db import migrations
from django.db.models import F


def mark_told(apps, schema_editor):
    Proposal = apps.get_model("directory", "Proposal")
    Proposal.objects.exclude(status="pending").filter(told_at__isnull=True).update(
        told_at=F("reviewed_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0003_proposal_told_at"),
    ]

    operations = [
        migrations.RunPython(mark_told, migrations.RunPython.noop),
    ]

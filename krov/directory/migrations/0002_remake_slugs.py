"""Organisations and guides whose slug was made from a Russian, Ukrainian or Serbian name with đ
get the slug those languages' rules make.

Old slugs are kept in core's OldSlug table, so their URLs answer 301 to the new ones. The rules
are Krov's slug rule (krov.core.scripts) and, as the old one, Django's slugify of the Serbian
Latin, which dropped the letters Serbian lacks ("Как открыть счёт" gave "kak-otkrt-sct")."""

from __future__ import annotations

from django.db import migrations
from django.utils.text import slugify

from krov.core import oldslugs, scripts


def _old_rule(text):
    return slugify(scripts.to_latin(text))


def remake(apps, schema_editor):
    oldslugs.remake_slugs(
        apps,
        "directory.Organisation",
        texts="texts",
        title="name",
        max_length=60,
        rule=lambda text, language: scripts.slug_text(text, language, max_length=60),
        old_rule=_old_rule,
    )
    oldslugs.remake_slugs(
        apps,
        "directory.Guide",
        texts="texts",
        title="title",
        max_length=60,
        rule=lambda text, language: scripts.slug_text(text, language, max_length=60),
        old_rule=_old_rule,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("core", "0014_old_slug"),
    ]

    operations = [
        migrations.RunPython(remake, migrations.RunPython.noop),
    ]

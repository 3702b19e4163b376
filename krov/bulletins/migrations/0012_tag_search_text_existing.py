"""Tags made before the tags page searched in the database get their search column: their
own name and their translations' names, each as the search compares it
(krov.bulletins.services.tag_search_text, the one rule the services write it with)."""

from __future__ import annotations

from django.db import migrations


def fill(apps, schema_editor):
    from krov.bulletins.services import tag_search_text

    Tag = apps.get_model("bulletins", "Tag")
    TagTranslation = apps.get_model("bulletins", "TagTranslation")
    translated: dict[int, list[str]] = {}
    rows = TagTranslation.objects.order_by("tag_id", "language").values_list("tag_id", "name")
    for tag_id, name in rows.iterator(chunk_size=2000):
        translated.setdefault(tag_id, []).append(name)
    changed = []
    for tag in Tag.objects.only("pk", "name", "search_text").iterator(chunk_size=2000):
        text = tag_search_text(tag.name, translated.get(tag.pk, []))
        if tag.search_text != text:
            tag.search_text = text
            changed.append(tag)
    Tag.objects.bulk_update(changed, ["search_text"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("bulletins", "0011_tag_search_text"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]

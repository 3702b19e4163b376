"""Tags made before tags had a language take their first post's original language."""

from __future__ import annotations

from django.db import migrations


def set_languages(apps, schema_editor):
    Tag = apps.get_model("bulletins", "Tag")
    for tag in Tag.objects.filter(language=""):
        post = tag.posts.order_by("pk").first()
        if post is not None:
            Tag.objects.filter(pk=tag.pk).update(language=post.original_language)


class Migration(migrations.Migration):
    dependencies = [
        ("bulletins", "0003_tag_language"),
    ]

    operations = [
        migrations.RunPython(set_languages, migrations.RunPython.noop),
    ]

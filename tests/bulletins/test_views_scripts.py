"""Bulletin pages in Serbian show Serbian tags in the page's script and other languages'
tags as written; tags and slugs from Russian and Ukrainian follow those languages' rules."""

from __future__ import annotations

import pytest
from django.test import Client

from krov.bulletins import services
from krov.bulletins.models import Tag
from tests.helpers import soup

pytestmark = pytest.mark.django_db


def _tags(url: str) -> list[str]:
    page = soup(Client().get(url))
    return [a.get_text() for a in page.select("a[href*='?tag=']")]


def test_a_serbian_tag_is_shown_in_the_pages_script(publish):
    post = publish(tags=("rat", "Đorđe"))
    assert sorted(_tags("/sr/bulletins/")) == sorted(["Ђорђе", "рат"])
    assert sorted(_tags(f"/sr/bulletins/{post.slug}/")) == sorted(["Ђорђе", "рат"])
    assert sorted(_tags(f"/sr-latn/bulletins/{post.slug}/")) == sorted(["Đorđe", "rat"])
    assert Tag.objects.get(name="Đorđe").slug == "djordje"


def test_a_russian_tag_is_never_transliterated_as_if_serbian(publish):
    post = publish("Помощь беженцам", language="ru", tags=("диаспора",), body="Текст")
    for page_language in ("sr", "sr-latn"):
        assert _tags(f"/{page_language}/bulletins/{post.slug}/") == ["диаспора"]
    assert post.slug == "pomoshch-bezhentsam"
    assert Tag.objects.get().slug == "diaspora"


def test_a_tag_made_under_the_old_slug_rule_is_used_again_not_doubled(editor):
    old = Tag.objects.create(slug="pomo", name="помощь", language="ru")
    post = services.create_post(
        actor=editor, language="ru", title="Отчёт", body="Текст", tags=["помощь"]
    )
    assert list(post.tags.all()) == [old]
    assert Tag.objects.count() == 1

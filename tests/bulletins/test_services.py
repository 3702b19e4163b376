"""krov.bulletins.services: workflow, both Serbian scripts, search, channel posts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from krov.bulletins import services
from krov.bulletins.models import Post, PostVersion
from krov.telegram.models import Outbound

pytestmark = pytest.mark.django_db


def test_latin_yields_cyrillic_and_edits_keep_them_in_step(editor):
    post = services.create_post(
        actor=editor, language="sr-latn", title="Veče solidarnosti", body="Dođite svi."
    )
    assert PostVersion.objects.get(post=post, language="sr").title == "Вече солидарности"
    services.write(post, actor=editor, language="sr-latn", title="Veče mira", body="Dođite.")
    assert PostVersion.objects.get(post=post, language="sr").title == "Вече мира"
    services.write(post, actor=editor, language="sr", title="Ноћ", body="Текст")
    assert PostVersion.objects.get(post=post, language="sr-latn").title == "Noć"


def test_a_second_editor_must_approve(editor, second_editor, settings):
    settings.KROV_BULLETINS_SELF_APPROVAL = False
    post = services.create_post(actor=editor, language="en", title="T", body="B")
    with pytest.raises(services.BulletinError, match="in review"):
        services.approve(post, actor=second_editor)
    services.submit(post, actor=editor)
    with pytest.raises(services.BulletinError, match="second editor"):
        services.approve(post, actor=editor)
    services.approve(post, actor=second_editor)
    post.refresh_from_db()
    assert post.is_visible and post.approved_by == second_editor


def test_a_site_may_allow_self_approval(editor, settings):
    settings.KROV_BULLETINS_SELF_APPROVAL = True
    post = services.create_post(actor=editor, language="en", title="T", body="B")
    services.submit(post, actor=editor)
    services.approve(post, actor=editor)
    assert Post.objects.get(pk=post.pk).is_visible


def test_only_editors_write(personas):
    with pytest.raises(services.BulletinError):
        services.create_post(actor=personas["organiser"].user, language="en", title="T", body="B")


@pytest.mark.parametrize(
    ("title", "body", "language"),
    [("", "B", "en"), ("T", "   ", "en"), ("T" * 201, "B", "en"), ("T", "B", "tlh")],
)
def test_bad_versions_are_refused(editor, title, body, language):
    with pytest.raises(services.BulletinError):
        services.create_post(actor=editor, language=language, title=title, body=body)
    assert not Post.objects.exists()


def test_publication_queues_one_channel_post(publish, settings, django_capture_on_commit_callbacks):
    settings.TELEGRAM_CHANNEL_ID = "@krov_news"
    with django_capture_on_commit_callbacks(execute=True):
        post = publish("Protest <danas> & sutra")
    (row,) = Outbound.objects.filter(channel="@krov_news")
    assert "<b>Protest &lt;danas&gt; &amp; sutra</b>" in json.loads(row.params)["text"]
    assert services.announce_due() == 0  # once only
    assert Post.objects.get(pk=post.pk).announced_at is not None


def test_a_scheduled_bulletin_appears_and_is_announced_when_its_time_comes(
    editor, second_editor, settings
):
    settings.TELEGRAM_CHANNEL_ID = "@krov_news"
    post = services.create_post(actor=editor, language="en", title="Later", body="B")
    services.submit(post, actor=editor)
    when = timezone.now() + timedelta(hours=2)
    services.approve(post, actor=second_editor, publish_at=when)
    assert not Post.objects.published().exists()
    assert services.announce_due() == 0
    with time_machine.travel(when + timedelta(minutes=1)):
        assert Post.objects.published().count() == 1
        assert services.announce_due() == 1


def test_a_cyrillic_query_finds_latin_text_and_back(publish):
    publish("Istina o ratu", body="Dijaspora organizuje pomoć izbeglicama.")
    found = {v.language for v in services.search("избеглицама")}
    assert {"sr", "sr-latn"} <= found
    assert services.search("izbeglicama").exists()
    assert not services.search("nepostojećareč").exists()


def test_search_only_finds_published_bulletins(editor):
    services.create_post(actor=editor, language="en", title="Secret draft", body="unpublished")
    assert not services.search("unpublished").exists()


@pytest.mark.parametrize("query", ["", "   ", "&|!:*()'", "a" * 500, "\x00"])
def test_odd_queries_do_not_break_search(publish, query):
    publish()
    list(services.search(query))

"""The demo's audio bulletin: its recording is synthesised at demo time (offline), processed,
published, and the podcast feed lists it; loading the demo again adds nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from lxml import etree

from krov.bulletins.models import Recording

pytestmark = pytest.mark.django_db


def test_the_demo_has_one_published_audio_bulletin_in_the_podcast_feed(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("demo", "--force")
    call_command("demo", "--force")
    recording = Recording.objects.get()
    assert recording.status == Recording.Status.READY
    assert recording.post.is_visible
    assert abs(recording.duration_ms - 6000) <= 100
    feed = etree.fromstring(Client().get("/en/bulletins/podcast/").content)
    (item,) = feed.findall("channel/item")
    assert item.findtext("title") == "Audio bulletin: a week in the diaspora"

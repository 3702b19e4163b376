"""The podcast feed (/<lang>/bulletins/podcast/) as Apple Podcasts and Spotify read it: RSS
2.0 with the iTunes and Podcasting 2.0 namespaces, every element their published rules
require of a show and of an episode, the enclosure's exact length and type, a guid that
survives a new slug, artwork Krov serves within Apple's size rules, the transcript; cached
and conditional like the other feeds. And the Atom feed's and API's link to the press
story a bulletin answers."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.core.files.storage import default_storage
from django.test import Client
from lxml import etree
from PIL import Image

from krov.bulletins import services
from krov.bulletins.models import Post, Recording
from tests.bulletins.audio_files import upload

pytestmark = pytest.mark.django_db

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
PODCAST = "{https://podcastindex.org/namespace/1.0}"
ATOM = "{http://www.w3.org/2005/Atom}"
# Apple Podcasts' categories (the ones Krov could use), from its published list.
APPLE_CATEGORIES = {"News": {"Daily News", "Politics", "News Commentary", "Business News"}}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def audio_post(editor, second_editor, django_capture_on_commit_callbacks):
    def _make(title="Ko su Rusi u Beogradu", *, language="sr-latn", transcript="Dobro veče."):
        post = services.create_post(
            actor=editor,
            language=language,
            title=title,
            summary="Odgovor na tekst u štampi.",
            body="Tekst.",
            transcript=transcript,
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.attach_recording(post, actor=editor, upload=upload("wav", seconds=2.0))
        services.submit(post, actor=editor)
        with django_capture_on_commit_callbacks(execute=True):
            services.approve(post, actor=second_editor)
        return Post.objects.get(pk=post.pk)

    return _make


def feed(language="en", **headers):
    response = Client().get(f"/{language}/bulletins/podcast/", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    return response, etree.fromstring(response.content)


def text(element, path):
    found = element.find(path)
    assert found is not None, path
    return found.text


@pytest.mark.parametrize("language", ["ru", "uk", "sr", "sr-latn", "en", "de"])
def test_the_show_has_every_element_apple_requires(audio_post, language):
    audio_post()
    _response, rss = feed(language)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    assert rss.nsmap["itunes"] == ITUNES.strip("{}")
    assert rss.nsmap["podcast"] == PODCAST.strip("{}")
    (channel,) = rss.findall("channel")
    assert text(channel, "title")
    assert text(channel, "description")
    assert text(channel, "link").startswith("http")
    assert text(channel, "language") == {"sr-latn": "sr-Latn"}.get(language, language)
    assert text(channel, f"{ITUNES}explicit") in {"true", "false"}
    category = channel.find(f"{ITUNES}category")
    assert category.get("text") in APPLE_CATEGORIES
    for sub in category.findall(f"{ITUNES}category"):
        assert sub.get("text") in APPLE_CATEGORIES[category.get("text")]
    artwork = channel.find(f"{ITUNES}image").get("href")
    assert urlsplit(artwork).scheme in {"http", "https"}
    assert text(channel, f"{ITUNES}author")
    assert (
        channel.find(f"{ATOM}link[@rel='self']")
        .get("href")
        .endswith(f"/{language}/bulletins/podcast/")
    )
    assert text(channel, f"{PODCAST}guid")


def test_the_artwork_is_served_by_krov_within_apple_s_rules(audio_post):
    audio_post()
    _response, rss = feed()
    href = rss.find(f"channel/{ITUNES}image").get("href")
    path = urlsplit(href).path
    assert path.startswith("/static/")
    response = Client().get(path)
    assert response.status_code == 200
    data = b"".join(response.streaming_content) if response.streaming else response.content
    picture = Image.open(io.BytesIO(data))
    assert picture.format in {"PNG", "JPEG"} and picture.mode == "RGB"
    assert picture.width == picture.height and 1400 <= picture.width <= 3000
    assert finders.find("bulletins/podcast.png")


def test_an_episode_has_an_exact_enclosure_guid_duration_and_transcript(audio_post):
    post = audio_post()
    recording = Recording.objects.get(post=post)
    _response, rss = feed("sr")
    (item,) = rss.findall("channel/item")
    assert text(item, "title") == "Ко су Руси у Београду"
    enclosure = item.find("enclosure")
    assert enclosure.get("type") == "audio/mpeg"
    assert (
        int(enclosure.get("length")) == recording.mp3_bytes == default_storage.size(recording.mp3)
    )
    served = Client().get(urlsplit(enclosure.get("url")).path)
    assert served.status_code == 200
    assert int(served["Content-Length"]) == recording.mp3_bytes
    guid = item.find("guid")
    assert guid.get("isPermaLink") == "false" and guid.text
    hours, minutes, seconds = (int(part) for part in text(item, f"{ITUNES}duration").split(":"))
    assert hours * 3600 + minutes * 60 + seconds == recording.duration_seconds == 2
    published = parsedate_to_datetime(text(item, "pubDate"))
    assert published.tzinfo is not None and published <= datetime.now(UTC)
    assert text(item, f"{ITUNES}explicit") in {"true", "false"}
    transcript = item.find(f"{PODCAST}transcript")
    assert transcript.get("type") == "text/plain" and transcript.get("language") == "sr"
    answer = Client().get(urlsplit(transcript.get("url")).path.replace("/en/", "/sr/"))
    assert answer.content.decode().strip() == "Добро вече."


def test_the_guid_stays_when_the_slug_changes(audio_post):
    post = audio_post()
    _response, rss = feed()
    before = text(rss, "channel/item/guid")
    Post.objects.filter(pk=post.pk).update(slug="new-address")
    from django.core.cache import cache

    cache.clear()
    _response, rss = feed()
    assert text(rss, "channel/item/guid") == before


def test_only_published_bulletins_with_a_ready_recording_are_episodes(audio_post, publish, editor):
    audio_post("Sa zvukom")
    publish("Bez zvuka")
    draft = services.create_post(actor=editor, language="en", title="Draft", body="B")
    services.attach_recording(draft, actor=editor, upload=upload("wav", seconds=1.0))
    _response, rss = feed("sr-latn")
    assert [i.findtext("title") for i in rss.findall("channel/item")] == ["Sa zvukom"]


def test_the_feed_is_cached_and_conditional(audio_post):
    audio_post()
    first, _rss = feed()
    assert first["ETag"]
    again = Client().get("/en/bulletins/podcast/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_a_new_episode_refreshes_the_cached_feed(audio_post):
    audio_post("Prva")
    _response, rss = feed()
    assert len(rss.findall("channel/item")) == 1
    audio_post("Druga")
    _response, rss = feed()
    assert len(rss.findall("channel/item")) == 2


# --- answering the press: Atom's rel="related" and the API ----------------------------------


@pytest.fixture
def answered(editor, second_editor, django_capture_on_commit_callbacks):
    from krov.press import parsing
    from krov.press import services as press
    from krov.press.models import Story

    source = press.add_source("https://novine.example.org/rss", name="Novine", language="sr")
    press.store_entries(
        source,
        [
            parsing.Entry(
                guid="1",
                link="https://novine.example.org/rusi",
                title="Да ли Руси окупирају Београд?",
                summary="",
                published_at=datetime(2026, 11, 30, tzinfo=UTC),
            )
        ],
    )
    story = Story.objects.get()
    post = press.answer_with_bulletin(story, actor=editor, language="sr")
    services.submit(post, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(post, actor=second_editor)
    return post


def test_the_atom_entry_of_an_answer_links_the_press_story(answered, publish):
    publish("Nešto drugo")
    response = Client().get("/sr-latn/bulletins/feed/")
    atom = etree.fromstring(response.content)
    entries = {e.findtext(f"{ATOM}title"): e for e in atom.findall(f"{ATOM}entry")}
    (answer,) = [
        e
        for e in entries.values()
        if e.find(f"{ATOM}link[@rel='alternate']").get("href").endswith(f"/{answered.slug}/")
    ]
    (related,) = answer.findall(f"{ATOM}link[@rel='related']")
    assert related.get("href") == "https://novine.example.org/rusi"
    assert related.get("title") == "Da li Rusi okupiraju Beograd?"  # the feed's script
    other = entries["Nešto drugo"]
    assert other.findall(f"{ATOM}link[@rel='related']") == []


def test_the_atom_feed_still_costs_the_same_queries_with_answers(answered, publish):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert Client().get("/en/bulletins/feed/").status_code == 200
        return len(captured)

    # Tags bring one query for their translations, once there is a tag to translate.
    publish("Tagged first", tags=("rat",))
    few = count()
    for index in range(5):
        publish(f"Post {index}", tags=("rat", f"t{index}"))
    assert count() == few


def test_the_api_carries_the_answered_story(answered, publish):
    publish("Nešto drugo")
    found = Client().get(f"/api/v1/bulletins/{answered.slug}?lang=sr").json()
    assert found["in_answer_to"] == {
        "title": "Да ли Руси окупирају Београд?",
        "source": "Novine",
        "url": "https://novine.example.org/rusi",
    }
    results = Client().get("/api/v1/bulletins?lang=en").json()["results"]
    assert {r["slug"]: r["in_answer_to"] is None for r in results}[answered.slug] is False
    assert [r["in_answer_to"] for r in results if r["slug"] != answered.slug] == [None]

"""The Atom feed (krov.bulletins.views.LatestBulletins) as an outside reader sees it: valid
against the RFC 4287 RELAX NG schema, plain-text summaries as text, the sanitised content,
each entry's own language, and ids from the configured site address."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from django.test import Client
from lxml import etree

from krov.bulletins import services

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SCHEMA = Path(__file__).resolve().parent.parent / "fixtures" / "atom.rng"


@pytest.fixture(scope="module")
def rfc4287():
    return etree.RelaxNG(etree.parse(str(SCHEMA)))


@pytest.fixture
def post_in(editor, second_editor, django_capture_on_commit_callbacks):
    """A published bulletin written only in `language`, with a summary and body given."""

    def _post(language: str, title: str, *, summary: str = "", body: str = "Текст."):
        post = services.create_post(
            actor=editor, language=language, title=title, summary=summary, body=body
        )
        services.submit(post, actor=editor)
        with django_capture_on_commit_callbacks(execute=True):
            services.approve(post, actor=second_editor)
        return post

    return _post


def _feed(language: str, **headers) -> etree._Element:
    response = Client().get(f"/{language}/bulletins/feed/", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return etree.fromstring(response.content)


@pytest.mark.parametrize("language", ["ru", "uk", "sr", "sr-latn", "en", "de"])
def test_every_language_feed_is_valid_against_the_rfc_4287_schema(rfc4287, publish, language):
    publish("Istina")
    publish("Mir", body="Tekst sa [vezom](https://example.org) i <b>oznakom</b>.")
    feed = _feed(language)
    assert rfc4287.validate(feed), rfc4287.error_log
    assert len(feed.findall(f"{ATOM}entry")) == 2


def test_plain_text_summary_is_sent_as_text_so_a_less_than_sign_stays_text(post_in):
    post_in("en", "Rents", summary="Rent < 500 EUR & <b>not bold</b>")
    (entry,) = _feed("en").findall(f"{ATOM}entry")
    summary = entry.find(f"{ATOM}summary")
    assert summary.get("type") == "text"
    assert summary.text == "Rent < 500 EUR & <b>not bold</b>"
    parsed = feedparser.parse(Client().get("/en/bulletins/feed/").content)
    assert parsed.entries[0].summary == "Rent < 500 EUR & <b>not bold</b>"


def test_entries_carry_the_posts_sanitised_html_content(post_in):
    post_in(
        "en",
        "Content",
        body='**Bold** words <script>alert("x")</script> [link](https://example.org)',
    )
    (entry,) = _feed("en").findall(f"{ATOM}entry")
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html"
    html = content.text
    assert "<strong>Bold</strong>" in html
    assert 'href="https://example.org"' in html
    assert "<script" not in html


def test_an_entry_in_another_language_than_the_feed_carries_its_own_xml_lang(post_in):
    post_in("en", "Only in English")
    post_in("ru", "Только по-русски")
    feed = _feed("ru")
    assert feed.get(XML_LANG) == "ru"
    entries = {e.find(f"{ATOM}title").text: e for e in feed.findall(f"{ATOM}entry")}
    assert entries["Only in English"].get(XML_LANG) == "en"
    assert entries["Только по-русски"].get(XML_LANG) is None  # inherits the feed's


def test_ids_and_links_come_from_the_site_url_not_the_host_header(publish, settings):
    settings.KROV_SITE_URL = "https://krov.example.org"
    settings.ALLOWED_HOSTS = ["*"]
    post = publish("Istina")
    feed = _feed("en", HTTP_HOST="attacker.example")
    entry = feed.find(f"{ATOM}entry")
    expected = f"https://krov.example.org/en/bulletins/{post.slug}/"
    assert entry.find(f"{ATOM}id").text == expected
    assert entry.find(f"{ATOM}link").get("href") == expected
    assert feed.find(f"{ATOM}id").text == "https://krov.example.org/en/bulletins/feed/"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {
        "alternate": "https://krov.example.org/en/bulletins/",
        "self": "https://krov.example.org/en/bulletins/feed/",
    }
    # Nothing anywhere in the feed names the Host header it was asked with.
    assert b"attacker.example" not in etree.tostring(feed)


def test_the_feed_answers_304_while_unchanged_and_200_after_a_publication(publish):
    """Conditional GET comes from the page cache (krov.core.pagecache), which keeps the feed."""
    publish("Istina")
    first = Client().get("/en/bulletins/feed/")
    etag = first["ETag"]
    assert Client().get("/en/bulletins/feed/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    publish("Mir")
    again = Client().get("/en/bulletins/feed/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert again["ETag"] != etag


def test_categories_are_in_the_feeds_script_and_other_languages_stay_as_written(publish):
    publish("Istina", tags=("Solidarnost",))
    publish("Правда", language="ru", tags=("Война",))
    for language, expected in (
        ("sr", {"Солидарност", "Война"}),
        ("sr-latn", {"Solidarnost", "Война"}),
        ("en", {"Solidarnost", "Война"}),
    ):
        terms = {c.get("term") for c in _feed(language).iter(f"{ATOM}category")}
        assert terms == expected, language


def test_a_relative_link_in_a_post_resolves_on_the_site_for_a_feed_reader(post_in, settings):
    settings.KROV_SITE_URL = "https://krov.example.org"
    post_in("en", "Guides", body="Read [the bank guide](/en/guides/bank-account/) first.")
    parsed = feedparser.parse(
        Client().get("/en/bulletins/feed/").content,
        response_headers={"content-location": "https://elsewhere.example/feed"},
    )
    content = parsed.entries[0].content[0].value
    assert 'href="https://krov.example.org/en/guides/bank-account/"' in content

"""Bulletin pages over HTTP: list, detail, scripts, feeds, editors; the bulletins' part of
the sitemap and the site search."""

from __future__ import annotations

import feedparser
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from krov.bulletins import services
from krov.bulletins.models import Post
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db


def test_the_url_language_picks_the_serbian_script(publish):
    post = publish("Veče solidarnosti")
    assert soup(Client().get(f"/sr/bulletins/{post.slug}/")).h1.get_text() == "Вече солидарности"
    assert (
        soup(Client().get(f"/sr-latn/bulletins/{post.slug}/")).h1.get_text() == "Veče solidarnosti"
    )


def test_a_missing_translation_shows_the_original_with_a_note_and_hreflang_lists_only_existing(
    publish,
):
    post = publish("Istina")
    page = soup(Client().get(f"/de/bulletins/{post.slug}/"))
    assert page.h1.get_text() == "Istina"
    assert page.select_one("p.notice")
    hreflangs = {link["hreflang"] for link in page.select('link[rel="alternate"][hreflang]')}
    assert hreflangs == {"sr", "sr-latn", "x-default"}


def test_detail_has_opengraph_and_twitter_tags(publish):
    post = publish("Istina")
    page = soup(Client().get(f"/sr-latn/bulletins/{post.slug}/"))
    assert page.select_one('meta[property="og:title"]')["content"] == "Istina"
    assert page.select_one('meta[name="twitter:card"]')["content"] == "summary"
    assert page.select_one(".body strong").get_text() == "istinu"


def test_drafts_and_unknown_slugs_are_404(editor):
    post = services.create_post(actor=editor, language="en", title="Draft", body="B")
    assert Client().get(f"/en/bulletins/{post.slug}/").status_code == 404
    assert Client().get("/en/bulletins/no-such-thing/").status_code == 404
    assert signed_in(editor).get(f"/en/bulletins/{post.slug}/").status_code == 200  # preview


@pytest.mark.parametrize("query", ["page=abc", "page=-3", "page=99999", "tag=" + "x" * 100])
def test_bad_list_parameters_get_a_clear_answer(publish, query):
    publish()
    assert Client().get(f"/en/bulletins/?{query}").status_code in {200, 404}


def test_atom_feed_per_language_parses_and_is_refreshed_on_publication(publish, editor):
    publish("Prvi")
    feed = feedparser.parse(Client().get("/sr/bulletins/feed/").content)
    assert feed.version == "atom10"
    assert [e.title for e in feed.entries] == ["Први"]
    latin = feedparser.parse(Client().get("/sr-latn/bulletins/feed/").content)
    assert [e.title for e in latin.entries] == ["Prvi"]
    publish("Drugi")
    feed = feedparser.parse(Client().get("/sr/bulletins/feed/").content)
    assert [e.title for e in feed.entries] == ["Други", "Први"]


def test_every_language_of_a_published_bulletin_is_in_the_sitemap(publish, editor, settings):
    post = publish()
    draft = services.create_post(actor=editor, language="en", title="Draft", body="B")
    from xml.etree import ElementTree

    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    sitemap = Client().get("/sitemap.xml")
    tree = ElementTree.fromstring(sitemap.content)  # noqa: S314 - our own server's answer
    locs = [loc.text for loc in tree.iter(f"{namespace}loc")]
    assert f"{settings.KROV_SITE_URL}/sr/bulletins/{post.slug}/" in locs
    assert f"{settings.KROV_SITE_URL}/sr-latn/bulletins/{post.slug}/" in locs
    assert not [loc for loc in locs if draft.slug in loc]


def test_the_site_search_finds_bulletins_across_scripts_once_in_the_pages_script(publish):
    publish("Istina o ratu", body="Pomoć izbeglicama")
    for page_language, query, title in [
        ("sr", "izbeglicama", "Истина о рату"),
        ("sr-latn", "избеглицама", "Istina o ratu"),
    ]:
        page = soup(Client().get(f"/{page_language}/search/", {"q": query}))
        found = [(a["hreflang"], a.get_text()) for a in page.select("ul.results li a")]
        assert found == [(page_language, title)]


def test_write_submit_approve_through_the_newsroom(editor, second_editor):
    client = signed_in(editor)
    response = client.post(
        "/en/bulletins/editor/",
        {"language": "sr-latn", "title": "Mir", "summary": "", "body": "Tekst", "tags": "mir, rat"},
    )
    assert response.status_code == 302
    post = Post.objects.get()
    client.post(f"/en/bulletins/editor/{post.slug}/submit/")
    page = client.post(f"/en/bulletins/editor/{post.slug}/approve/", follow=True)
    assert "second editor" in soup(page).select_one(".messages").get_text()
    approver = signed_in(second_editor)
    seen = approver.get(f"/en/bulletins/editor/{post.slug}/").context["seen"]
    approver.post(f"/en/bulletins/editor/{post.slug}/approve/", {"publish_at": "", "seen": seen})
    post.refresh_from_db()
    assert post.is_visible
    assert sorted(t.slug for t in post.tags.all()) == ["mir", "rat"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("member", 403), ("organiser", 403), ("editor", 200), ("admin", 403)],
)
def test_the_newsroom_is_for_editors(personas, who, expected):
    client = Client() if who == "anonymous" else signed_in(personas[who].user)
    assert client.get("/en/bulletins/editor/").status_code == expected


def test_list_and_detail_queries_do_not_grow(publish):
    post = publish()
    client = Client()

    def count(url):
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = (
        count("/en/bulletins/"),
        count(f"/en/bulletins/{post.slug}/"),
        count("/en/bulletins/feed/"),
    )
    for index in range(12):
        publish(f"Post {index}", tags=("rat", f"t{index}"))
    many = (
        count("/en/bulletins/"),
        count(f"/en/bulletins/{post.slug}/"),
        count("/en/bulletins/feed/"),
    )
    assert many == few


def test_the_second_editor_sees_what_an_edit_changes_against_the_approved_text(
    publish, editor, second_editor
):
    post = publish("Istina o ratu", language="en", body="The diaspora writes the **truth**.")
    services.write(
        post,
        actor=editor,
        language="en",
        title="Istina o ratu",
        summary="Kratak pregled",
        body="The diaspora writes the **whole truth**.",
    )
    page = soup(signed_in(second_editor).get(f"/en/bulletins/editor/{post.slug}/"))
    changed = page.select_one("#pending-heading").find_parent("section")
    (body_change,) = changed.select("dl.changes dd")
    assert body_change.select_one("del").get_text() == "**truth**."
    assert body_change.select_one("ins").get_text() == "**whole truth**."
    assert body_change.get_text().startswith("The diaspora writes the ")
    assert "Istina o ratu" in changed.select_one("details.unchanged").get_text()


def test_an_editor_previews_the_saved_text_as_readers_will_see_it(editor):
    post = services.create_post(
        actor=editor, language="en", title="Draft", summary="", body="Read **this** first."
    )
    page = soup(signed_in(editor).get(f"/en/bulletins/editor/{post.slug}/?lang=en"))
    preview = page.select_one("section.preview article")
    assert preview.select_one("strong").get_text() == "this"
    assert "**" not in preview.get_text()


def test_text_in_another_language_than_the_page_says_which(publish):
    """A Russian reader of a bulletin only written in English gets it marked lang="en"
    (screen readers switch voice); Serbian on the Latin page is the page's own language."""
    post = publish("Only English", language="en", body="Plain **English** text.")
    page = soup(Client().get(f"/ru/bulletins/{post.slug}/"))
    assert page.select_one("h1")["lang"] == "en"
    assert page.select_one("div.body")["lang"] == "en"
    assert soup(Client().get("/ru/bulletins/")).select_one("li.bulletin h2")["lang"] == "en"
    assert not soup(Client().get(f"/en/bulletins/{post.slug}/")).select_one("h1").has_attr("lang")
    serbian = publish("Na latinici", language="sr-latn")
    assert (
        not soup(Client().get(f"/sr/bulletins/{serbian.slug}/")).select_one("h1").has_attr("lang")
    )

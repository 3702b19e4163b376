"""The editors' press pages: who may open them, what they show, the actions, and answering
a story with a bulletin."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import translation

from krov.press import parsing, services
from krov.press.models import Source, Story, WatchTerm
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

PAGES = ["/en/press/", "/en/press/sources/", "/en/press/terms/"]


def stories(source: Source, *titles: str) -> list[Story]:
    entries = [
        parsing.Entry(
            guid=f"g{i}-{title}",
            link=f"https://vesti.example/{i}",
            title=title,
            summary="",
            published_at=datetime(2026, 12, 1 + i, 8, 0, tzinfo=UTC),
        )
        for i, title in enumerate(titles)
    ]
    services.store_entries(source, entries)
    return list(Story.objects.filter(source=source).order_by("published_at"))


@pytest.fixture
def vesti(db) -> Source:
    return services.add_source("https://vesti.example/rss", name="Vesti", language="sr")


@pytest.mark.parametrize("path", PAGES)
def test_only_editors_open_the_press_pages(personas, path):
    assert Client().get(path).status_code == 302  # to the sign-in page
    for role in ("member", "volunteer", "coordinator", "organiser"):
        assert signed_in(personas[role].user).get(path).status_code == 403, role
    response = signed_in(personas["editor"].user).get(path)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    [
        "/en/press/stories/1/status/",
        "/en/press/stories/1/answer/",
        "/en/press/sources/1/active/",
        "/en/press/terms/1/",
        "/en/press/terms/1/remove/",
    ],
)
def test_only_editors_may_act(personas, path):
    assert signed_in(personas["member"].user).post(path, {}).status_code == 403


def test_matched_stories_newest_first_in_the_pages_script_with_terms(editor, vesti):
    stories(vesti, "Rusi kupuju stanove", "Rusvaj u skupštini", "Ukrajinci i Rusi protestovali")
    page = soup(signed_in(editor).get("/sr/press/"))
    rows = page.select("tr.story")
    assert [row.select_one(".title a").get_text() for row in rows] == [
        "Украјинци и Руси протестовали",
        "Руси купују станове",
    ]  # rusvaj did not match
    assert [t.get_text() for t in rows[0].select(".terms .tag")] == ["rus", "ukrajin"]
    assert rows[0].select_one(".title a")["rel"] == ["nofollow", "noopener", "noreferrer"]
    assert rows[0]["data-state"] == "new"
    with translation.override("sr"):
        assert rows[0].select_one(".state").get_text(strip=True) == str(Story.Status.NEW.label)
    latin = soup(signed_in(editor).get("/sr-latn/press/"))
    assert latin.select_one("tr.story .title a").get_text() == "Ukrajinci i Rusi protestovali"


def test_the_list_costs_the_same_number_of_queries_however_many_stories(
    editor, vesti, django_assert_num_queries
):
    client = signed_in(editor)
    stories(vesti, "Rusi 1", "Rusi 2")
    client.get("/en/press/")
    with django_assert_num_queries(10) as few:
        client.get("/en/press/")
    stories(vesti, *[f"Ukrajinci {i}" for i in range(20)])
    with django_assert_num_queries(len(few.captured_queries)):
        client.get("/en/press/")


def test_filters_by_source_status_and_term(editor, vesti):
    other = services.add_source("https://drugi.example/rss", name="Drugi", language="sr")
    first, _second = stories(vesti, "Rusi kupuju", "Izbeglice stižu")
    stories(other, "Dijaspora peva")
    services.set_status(first, actor=editor, status=Story.Status.TO_ANSWER)
    client = signed_in(editor)

    def titles(query: str) -> list[str]:
        page = soup(client.get("/sr-latn/press/?" + query))
        return sorted(a.get_text() for a in page.select("tr.story .title a"))

    assert titles(f"source={other.pk}") == ["Dijaspora peva"]
    assert titles("status=to_answer") == ["Rusi kupuju"]
    assert titles("status=new") == ["Dijaspora peva", "Izbeglice stižu"]
    izbeglic = WatchTerm.objects.get(term="izbeglic")
    assert titles(f"term={izbeglic.pk}") == ["Izbeglice stižu"]
    assert titles("status=nonsense") == ["Dijaspora peva", "Izbeglice stižu", "Rusi kupuju"]


def test_marking_a_story(editor, vesti):
    (story,) = stories(vesti, "Rusi kupuju")
    client = signed_in(editor)
    response = client.post(
        f"/en/press/stories/{story.pk}/status/",
        {"status": "not_relevant", "next": "/en/press/?status=new"},
    )
    assert response.status_code == 302 and response["Location"] == "/en/press/?status=new"
    story.refresh_from_db()
    assert story.status == "not_relevant"
    # Never sent to another site.
    response = client.post(
        f"/en/press/stories/{story.pk}/status/",
        {"status": "to_answer", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/en/press/"


@pytest.mark.parametrize(
    "path",
    [
        "/en/press/sources/",
        "/en/press/terms/",
        "/en/press/stories/{story}/status/",
        "/en/press/sources/{source}/active/",
        "/en/press/terms/{term}/",
    ],
)
def test_an_empty_post_answers_400_with_a_message(editor, vesti, path):
    (story,) = stories(vesti, "Rusi kupuju")
    term = WatchTerm.objects.first()
    url = path.format(story=story.pk, source=vesti.pk, term=term.pk)
    response = signed_in(editor).post(url, {})
    assert response.status_code == 400
    assert soup(response).select(".error, .errorlist")


def test_adding_and_deactivating_a_source(editor):
    client = signed_in(editor)
    response = client.post(
        "/en/press/sources/", {"url": "https://n1.example/feed", "name": "N1", "language": "sr"}
    )
    assert response.status_code == 302
    source = Source.objects.get(name="N1")
    again = client.post(
        "/en/press/sources/", {"url": "https://n1.example/feed", "name": "", "language": "sr"}
    )
    assert again.status_code == 400 and soup(again).select(".error")
    client.post(f"/en/press/sources/{source.pk}/active/", {"active": "0"})
    source.refresh_from_db()
    assert not source.active
    Source.objects.filter(pk=source.pk).update(last_error="status:404")
    page = soup(client.get("/en/press/sources/"))
    assert "HTTP status 404" in page.select_one(".last-error").get_text()
    assert page.select_one("tr.source.inactive")


def test_editing_the_watch_list_matches_the_stories_again(editor, vesti):
    (story,) = stories(vesti, "Русија и Кина")
    assert not story.terms.exists()  # the country is not seeded
    client = signed_in(editor)
    response = client.post("/en/press/terms/", {"term": "Руси", "endings": "ja je ji ju jom"})
    assert response.status_code == 302
    rusi = WatchTerm.objects.get(term="rusi")
    assert list(story.terms.all()) == [rusi]
    assert client.post("/en/press/terms/", {"term": "r.*", "endings": ""}).status_code == 400
    client.post(f"/en/press/terms/{rusi.pk}/", {"endings": "jom"})
    assert not story.terms.exists()
    client.post(f"/en/press/terms/{rusi.pk}/remove/")
    assert not WatchTerm.objects.filter(term="rusi").exists()


# --- answering ----------------------------------------------------------------------------


def test_answering_with_a_bulletin_until_it_is_published(editor, vesti, publish):
    (story,) = stories(vesti, "Da li Rusi okupiraju Beograd?")
    client = signed_in(editor)
    response = client.post(f"/sr-latn/press/stories/{story.pk}/answer/")
    story.refresh_from_db()
    post = story.answered_by
    assert response.status_code == 302
    assert response["Location"] == f"/sr-latn/bulletins/editor/{post.slug}/"
    version = post.versions.get(language="sr-latn")
    with translation.override("sr-latn"):  # "Re:" in the page's language
        expected = translation.gettext("Re: %(headline)s") % {
            "headline": "Da li Rusi okupiraju Beograd?"
        }
    assert version.title == expected
    assert post.status == "draft"
    # Asked again: the same draft, not a second one.
    client.post(f"/sr-latn/press/stories/{story.pk}/answer/")
    assert Story.objects.get(pk=story.pk).answered_by_id == post.pk

    def state() -> str:
        page = soup(client.get("/en/press/"))
        return page.select_one("tr.story")["data-state"]

    assert state() == "to_answer"
    publish(post, author=editor)
    assert state() == "answered"
    assert Story.objects.with_state().filter(state="answered").count() == 1

    page = soup(Client().get(f"/sr/bulletins/{post.slug}/"))
    line = page.select_one(".in-answer-to")
    assert line.a["href"] == "https://vesti.example/0"
    assert line.a.get_text() == "Да ли Руси окупирају Београд?"
    assert line.get_text(" ", strip=True).endswith("— Вести")


def test_a_bulletin_that_answers_nothing_has_no_such_line(editor, publish):
    from krov.bulletins import services as bulletins

    post = bulletins.create_post(actor=editor, language="en", title="Plain", body="Text")
    publish(post, author=editor)
    assert not soup(Client().get(f"/en/bulletins/{post.slug}/")).select(".in-answer-to")


def test_the_newsroom_and_the_editors_home_link_to_the_press_watch(editor, vesti):
    stories(vesti, "Rusi kupuju")
    client = signed_in(editor)
    newsroom = soup(client.get("/en/bulletins/editor/"))
    assert newsroom.select_one('a[href="/en/press/"]')
    from krov.core import home

    panel = next(p for p in home.panels_for(editor) if p.key == "press-editor")
    assert panel.items[0].count == 1

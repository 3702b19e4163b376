"""A tag's name can be translated, one row per language (Serbian once, as "sr"): every
bulletin page, the tag filter and the Atom feed show it in the page's language, else the
tag's own name (Serbian in the page's script, any other marked with its `lang`). Editors
translate tags on the newsroom's Tags page; the tag's slug, and so its filter address, stays.
Saving refreshes the cached pages once committed; pages cost the same queries however many
tags there are."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from lxml import etree

from krov.accounts import roles
from krov.bulletins import services
from krov.bulletins.models import Tag, TagTranslation
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
TAGS = "/en/bulletins/editor/tags/"


@pytest.fixture
def war(publish, editor):
    """A bulletin tagged "rat" (Serbian, Latin), the tag translated into Russian and English."""
    post = publish()
    tag = Tag.objects.get(slug="rat")
    services.translate_tags(tag, actor=editor, names={"ru": "война", "en": "war"})
    return post


def _tag_links(url: str) -> list[tuple[str, str | None]]:
    page = soup(Client().get(url))
    return [(a.get_text(), a.get("lang")) for a in page.select("a.tag")]


# --- the one rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("ru", ("война", "ru")),
        ("en", ("war", "en")),
        ("sr", ("рат", "sr")),
        ("sr-latn", ("rat", "sr-latn")),
        ("de", ("rat", "sr-latn")),
        ("uk", ("rat", "sr-latn")),
    ],
)
def test_a_tag_is_its_translation_else_its_own_name(war, page, expected):
    shown = services.tag_name(Tag.objects.get(slug="rat"), page)
    assert (shown.text, shown.language) == expected


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("ru", ("война", None)),
        ("en", ("war", None)),
        ("sr", ("рат", None)),
        ("sr-latn", ("rat", None)),
        ("de", ("rat", "sr-latn")),
    ],
)
def test_the_bulletin_page_and_the_list_show_the_tag_in_the_pages_language(war, page, expected):
    assert _tag_links(f"/{page}/bulletins/{war.slug}/") == [expected]
    assert _tag_links(f"/{page}/bulletins/") == [expected]


def test_the_tag_filter_keeps_its_address_and_names_the_tag_in_the_pages_language(war):
    assert Tag.objects.get(slug="rat")  # the slug did not move
    page = soup(Client().get("/ru/bulletins/?tag=rat"))
    heading = page.select_one("h1 span.tag")
    assert (heading.get_text(), heading.get("lang")) == ("война", None)
    assert [a["href"] for a in page.select("li.card h2 a")] == [war.get_absolute_url()]
    german = soup(Client().get("/de/bulletins/?tag=rat")).select_one("h1 span.tag")
    assert (german.get_text(), german["lang"]) == ("rat", "sr-latn")


def test_the_list_offers_only_tags_of_published_bulletins(war, editor):
    services.create_post(
        actor=editor, language="en", title="Draft", body="Not yet.", tags=["secret plans"]
    )
    assert [text for text, _lang in _tag_links("/en/bulletins/")] == ["war"]


def test_atom_categories_are_in_the_feeds_language(war):
    def categories(language: str) -> list[str]:
        root = etree.fromstring(Client().get(f"/{language}/bulletins/feed/").content)
        return [c.get("term") for c in root.iter(f"{ATOM}category")]

    assert categories("ru") == ["война"]
    assert categories("sr") == ["рат"]
    assert categories("de") == ["rat"]


def test_typing_a_translated_name_reuses_the_tag(war, editor):
    post = services.create_post(
        actor=editor, language="en", title="More", body="Text.", tags=["war", "peace"]
    )
    assert sorted(post.tags.values_list("slug", flat=True)) == ["peace", "rat"]


# --- the service ---------------------------------------------------------------------------


def test_an_empty_name_removes_the_translation(war, editor):
    tag = Tag.objects.get(slug="rat")
    assert services.translate_tags(tag, actor=editor, names={"ru": "", "en": "war"}) == 1
    assert set(tag.translations.values_list("language", flat=True)) == {"en"}


@pytest.mark.parametrize("language", ["sr", "sr-latn", "tlh"])
def test_a_name_in_the_tags_own_or_an_unknown_language_is_refused(war, editor, language):
    with pytest.raises(services.BulletinError):
        services.translate_tags(Tag.objects.get(slug="rat"), actor=editor, names={language: "x"})


@pytest.mark.parametrize("who", [roles.ORGANISER, roles.MEMBER])
def test_only_editors_translate_tags(war, personas, who):
    with pytest.raises(services.BulletinError):
        services.translate_tags(
            Tag.objects.get(slug="rat"), actor=personas[who].user, names={"de": "Krieg"}
        )
    assert not TagTranslation.objects.filter(language="de").exists()


# --- the newsroom's Tags page ---------------------------------------------------------------


@pytest.mark.parametrize(("who", "expected"), [(roles.ORGANISER, 403), (roles.MEMBER, 403)])
def test_the_tags_page_is_for_editors(war, personas, who, expected):
    client = signed_in(personas[who].user)
    assert client.get(TAGS).status_code == expected
    assert client.post(TAGS, {"tag": "rat", f"tag-{_pk()}-de": "Krieg"}).status_code == expected
    assert not TagTranslation.objects.filter(language="de").exists()


def test_anonymous_visitors_are_sent_to_sign_in(war):
    response = Client().get(TAGS)
    assert response.status_code == 302 and "/login/" in response["Location"]
    response = Client().post(TAGS, {"tag": "rat", f"tag-{_pk()}-de": "Krieg"})
    assert response.status_code == 302
    assert not TagTranslation.objects.filter(language="de").exists()


def _pk() -> int:
    return Tag.objects.get(slug="rat").pk


def test_the_tags_page_lists_each_tag_with_a_field_per_other_language(war, editor):
    page = soup(signed_in(editor).get(TAGS))
    card = page.select_one("li.card.tag#tag-rat")
    names = {i["name"].rsplit("-", 1)[-1]: i for i in card.select("input[type=text]")}
    # Serbian is the tag's own language: no field for it, nor for its Latin script.
    assert set(names) == {"ru", "uk", "en", "de"}
    assert names["ru"]["value"] == "война" and names["ru"]["lang"] == "ru"
    assert card.select_one("input[name=csrfmiddlewaretoken]")


def test_an_editor_translates_a_tag_and_the_public_pages_follow(
    war, editor, django_capture_on_commit_callbacks
):
    client = Client()
    client.get("/de/bulletins/")
    assert client.get("/de/bulletins/")["X-Krov-Cache"] == "hit"
    pk = _pk()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(editor).post(
            TAGS,
            {"tag": "rat", f"tag-{pk}-de": "Krieg", f"tag-{pk}-ru": "война", f"tag-{pk}-en": "war"},
        )
    assert response.status_code == 302 and response["Location"].endswith("#tag-rat")
    assert TagTranslation.objects.get(tag__slug="rat", language="de").name == "Krieg"
    page = client.get("/de/bulletins/")
    assert page["X-Krov-Cache"] != "hit"
    assert [(a.get_text(), a.get("lang")) for a in soup(page).select("a.tag")] == [("Krieg", None)]
    assert Tag.objects.filter(slug="rat").exists()


def test_a_name_too_long_is_refused_on_the_page(war, editor):
    pk = _pk()
    response = signed_in(editor).post(TAGS, {"tag": "rat", f"tag-{pk}-de": "K" * 61})
    assert response.status_code == 400
    card = soup(response).select_one("li.card.tag#tag-rat")
    assert card.select_one(".has-error p.error[role=alert]")
    assert not TagTranslation.objects.filter(language="de").exists()


def test_an_unknown_tag_is_404(war, editor):
    response = signed_in(editor).post(TAGS, {"tag": "no-such-tag", "tag-1-de": "x"})
    assert response.status_code == 404


def test_a_post_without_its_csrf_token_is_refused(war, editor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor, backend="krov.accounts.backends.KrovBackend")
    assert client.post(TAGS, {"tag": "rat", f"tag-{_pk()}-de": "Krieg"}).status_code == 403
    assert not TagTranslation.objects.filter(language="de").exists()


def test_the_newsroom_leads_to_the_tags_page(editor):
    page = soup(signed_in(editor).get("/en/bulletins/editor/"))
    assert page.select_one(f'a[href="{TAGS}"]')


# --- queries ---------------------------------------------------------------------------------


def test_bulletin_pages_cost_the_same_queries_however_many_translated_tags(war, publish, editor):
    client = Client()

    def count(url: str) -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    urls = [
        "/ru/bulletins/",
        f"/ru/bulletins/{war.slug}/",
        "/ru/bulletins/feed/",
        "/ru/bulletins/?tag=rat",
    ]
    few = [count(url) for url in urls]
    for index in range(10):
        post = publish(f"Post {index}", tags=("rat", f"tema {index}", f"druga {index}"))
        for tag in post.tags.exclude(slug="rat"):
            services.translate_tags(
                tag, actor=editor, names={"ru": f"тема {index}", "en": f"topic {index}"}
            )
    assert [count(url) for url in urls] == few
    editor_page = signed_in(editor)

    def count_tags_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert editor_page.get(TAGS).status_code == 200
        return len(captured)

    many = count_tags_page()
    for index in range(10, 20):
        publish(f"Post {index}", tags=(f"tema {index}",))
    assert count_tags_page() == many


def test_the_tags_page_has_none_of_the_html_errors_seen(war, editor):
    from tests.core.test_html_main_pages import html_problems

    client = signed_in(editor)
    assert html_problems(client.get(TAGS)) == []
    refused = client.post(TAGS, {"tag": "rat", f"tag-{_pk()}-de": "K" * 61})
    assert refused.status_code == 400 and html_problems(refused) == []
    assert html_problems(Client().get(f"/ru/bulletins/{war.slug}/")) == []
    assert html_problems(Client().get("/de/bulletins/?tag=rat")) == []

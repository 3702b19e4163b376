"""Nothing typed into a bulletins page's address makes it fail: every free-text parameter
the bulletins views read (the tags page's search and pages, the tag filter, the editor's
language) answers a page, or a 4xx that says why, on SQLite and on PostgreSQL alike. A NUL
character (which PostgreSQL text cannot hold) failed the tags page and the tag filter with
a 500 there; LIKE's wildcards and backslash match only themselves; five thousand characters
and bytes that are no UTF-8 (a lone surrogate) are answered like any other text."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import Client

from krov.bulletins import services
from krov.bulletins.models import Tag
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

TAGS = "/en/bulletins/editor/tags/"
LIST = "/en/bulletins/"

# What is typed, as it is sent (percent-encoded).
VALUES = {
    "NUL": "%00",
    "NUL in a word": "ra%00t",
    "percent": "%25",
    "underscore": "_",
    "backslash": "%5C",
    "wildcards and backslash": "%25_%5C",
    "5,000 characters": "k" * 5000,
    "lone surrogate": "%ED%A0%80",
}


@pytest.fixture
def tagged(publish, editor):
    """A published bulletin tagged with names holding LIKE's special characters."""
    return publish(tags=("rat", "100% istina", "a_b", "levo\\desno"))


def _get(client: Client, url: str, parameter: str, value: str):
    separator = "&" if "?" in url else "?"
    return client.get(f"{url}{separator}{parameter}={value}")


def _tag_cards(response) -> list[str]:
    return [card["id"].removeprefix("tag-") for card in soup(response).select("li.card.tag")]


@pytest.mark.parametrize("value", VALUES.values(), ids=list(VALUES))
def test_no_value_of_any_query_parameter_makes_a_bulletins_page_fail(tagged, editor, value):
    """Every parameter the bulletins views read from the query string (views.py's
    `request.GET`): the tags page's `q` and `page`, the list's `tag` and `page`, the
    editor's `lang`."""
    client = signed_in(editor)
    search = _get(client, TAGS, "q", value)
    if "%00" in value or len(value) > 60:
        # Refused, and said beside the search field; every tag is listed meanwhile.
        assert search.status_code == 400
        field = soup(search).select_one("form[role=search] .field.has-error")
        assert field.select_one("input[name=q]")
        assert field.select_one("p.error[role=alert]").get_text(strip=True)
        assert sorted(_tag_cards(search)) == ["100-istina", "a-b", "levodesno", "rat"]
    else:
        assert search.status_code == 200
        # LIKE's special characters match only themselves.
        expected = {"%25": ["100-istina"], "_": ["a-b"], "%5C": ["levodesno"]}
        assert _tag_cards(search) == expected.get(value, [])
    # A value that can be no tag's slug names no tag: not found, as a tag that is not.
    tag_filter = _get(Client(), LIST, "tag", value)
    assert tag_filter.status_code == 404
    assert soup(tag_filter).select_one("h1").get_text(strip=True) == "Page not found"
    for url in (TAGS, f"{TAGS}?q=rat", LIST):
        paged = _get(client, url, "page", value)
        assert paged.status_code == 200, url
        assert soup(paged).select_one("h1"), url
    # A language that is none of the site's opens the bulletin's own.
    editor_page = _get(client, f"/en/bulletins/editor/{tagged.slug}/", "lang", value)
    assert editor_page.status_code == 200
    chosen = soup(editor_page).select_one("select[name=language] option[selected]")
    assert chosen["value"] == tagged.original_language


def test_a_slug_longer_than_the_column_names_no_tag(tagged):
    """It was cut to 40 characters, and so named the tag it began with."""
    long_slug = "rat" + "-x" * 20
    Tag.objects.filter(slug="rat").update(slug=long_slug[:40])
    assert _get(Client(), LIST, "tag", long_slug[:40]).status_code == 200
    assert _get(Client(), LIST, "tag", long_slug).status_code == 404


@pytest.mark.parametrize("value", ["\x00", "ra\x00t", "r" * 41, "%", "\\", "\ud800"])
def test_a_tag_that_can_be_no_slug_in_the_tags_form_is_not_found(tagged, editor, value):
    pk = Tag.objects.get(slug="rat").pk
    client = signed_in(editor)
    body = f"tag={quote(value, errors='surrogatepass')}&tag-{pk}-de=Krieg"
    response = client.post(TAGS, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 404
    assert not services.with_translations().filter(translations__language="de").exists()

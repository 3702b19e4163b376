"""An event shown in another language than the page (no translation yet) is marked with
`lang`, on its page and its card, so that a screen reader reads it in its own voice; Serbian
in either script on a Serbian page is the page's own language (shown in the page's script)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import soup

pytestmark = pytest.mark.django_db


def test_an_untranslated_event_is_marked_with_its_language(make_event):
    event = make_event()  # Serbian Cyrillic only
    page = soup(Client().get(f"/en/events/{event.slug}/"))
    assert page.h1["lang"] == "sr"
    assert page.select_one("p.lead")["lang"] == "sr"
    assert page.select_one("div.description")["lang"] == "sr"
    card = soup(Client().get("/ru/events/")).select_one("li.card.event h2")
    assert card["lang"] == "sr"


def test_a_card_in_another_language_says_which_and_one_in_the_pages_does_not(make_event):
    make_event()  # Serbian Cyrillic only
    label = soup(Client().get("/en/events/")).select_one("li.card.event .lang-label")
    assert label is not None and label.get_text() == "Serbian (Cyrillic)"
    russian = soup(Client().get("/ru/events/")).select_one("li.card.event .lang-label")
    assert russian.get_text() == "Сербский (кириллица)"
    assert soup(Client().get("/sr-latn/events/")).select_one("li.card.event .lang-label") is None


@pytest.mark.parametrize("page_language", ["sr", "sr-latn"])
def test_a_serbian_event_on_a_serbian_page_carries_no_lang_of_its_own(make_event, page_language):
    event = make_event()
    page = soup(Client().get(f"/{page_language}/events/{event.slug}/"))
    assert not page.h1.has_attr("lang")
    assert not page.select_one("div.description").has_attr("lang")

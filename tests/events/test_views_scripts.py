"""Event pages in Serbian show a Serbian venue's texts in the page's script (and a venue
written in English as it is); a Russian title's slug follows Russian rules."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import soup

pytestmark = pytest.mark.django_db


def _where(url: str) -> str:
    page = soup(Client().get(url))
    facts = page.select_one("dl.facts")
    return " ".join(" ".join(dd.get_text().split()) for dd in facts.select("dd"))


def test_the_venue_is_shown_in_the_pages_script(make_event, venue):
    venue.accessibility = "Prizemlje, jedan stepenik na ulazu."
    venue.save()
    event = make_event()
    cyrillic = _where(f"/sr/events/{event.slug}/")
    assert "Квака 22, Краљице Наталије 11, Београд" in cyrillic
    assert "Приземље, један степеник на улазу." in cyrillic
    latin = _where(f"/sr-latn/events/{event.slug}/")
    assert "Kvaka 22, Kraljice Natalije 11, Beograd" in latin
    card = soup(Client().get("/sr/events/")).select_one("li.card.event")
    assert "Квака 22" in card.get_text()


def test_a_venue_written_in_english_stays_as_it_is_on_serbian_pages(make_event, venue):
    venue.language = "en"
    venue.accessibility = "Ground floor, one step at the door; no accessible toilet."
    venue.save()
    event = make_event()
    cyrillic = _where(f"/sr/events/{event.slug}/")
    assert "Kvaka 22, Kraljice Natalije 11, Beograd" in cyrillic
    assert "Ground floor, one step at the door; no accessible toilet." in cyrillic


def test_a_russian_title_makes_a_russian_slug_and_stays_russian_on_serbian_pages(make_event):
    event = make_event("Как открыть счёт", language="ru")
    assert event.slug.startswith("kak-otkryt-schet-")
    for page_language in ("sr", "sr-latn"):
        page = soup(Client().get(f"/{page_language}/events/{event.slug}/"))
        assert page.h1.get_text(strip=True) == "Как открыть счёт"

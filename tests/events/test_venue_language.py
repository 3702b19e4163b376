"""A venue's texts (name, address, accessibility notes) are written in one language: pages
mark them with `lang` when it is not the page's (and not otherwise), Serbian pages show a
Serbian venue in the page's script, and venues made before they had a language get one
from their letters."""

from __future__ import annotations

import importlib

import pytest
from django.test import Client

from krov.events.models import Venue
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db


def _detail(event, language: str):
    return soup(Client().get(f"/{language}/events/{event.slug}/"))


def _card_venue(language: str):
    return soup(Client().get(f"/{language}/events/")).select_one("li.card.event span.venue")


@pytest.mark.parametrize("page_language", ["en", "ru", "de"])
def test_a_serbian_venue_is_marked_with_its_language_on_other_pages(
    make_event, venue, page_language
):
    venue.accessibility = "Prizemlje, jedan stepenik na ulazu."
    venue.save()
    event = make_event("Open mic", language="en")
    page = _detail(event, page_language)
    where = page.select_one("dl.facts span.venue")
    assert where["lang"] == "sr-latn"
    assert where.get_text() == "Kvaka 22"
    address = page.select_one("dl.facts span.venue-address")
    assert (address.get_text(), address["lang"]) == ("Kraljice Natalije 11, Beograd", "sr-latn")
    assert page.select_one("dl.facts dd.accessibility")["lang"] == "sr-latn"
    assert _card_venue(page_language)["lang"] == "sr-latn"


@pytest.mark.parametrize("page_language", ["sr", "sr-latn"])
def test_a_serbian_venue_on_a_serbian_page_carries_no_lang_of_its_own(
    make_event, venue, page_language
):
    venue.accessibility = "Prizemlje, jedan stepenik na ulazu."
    venue.save()
    event = make_event()
    page = _detail(event, page_language)
    assert not page.select_one("dl.facts span.venue").has_attr("lang")
    assert not page.select_one("dl.facts dd.accessibility").has_attr("lang")
    assert not _card_venue(page_language).has_attr("lang")


def test_a_venue_in_the_pages_language_carries_no_lang_and_elsewhere_its_own(make_event, venue):
    venue.language = "en"
    venue.accessibility = "Ground floor, one step at the door."
    venue.save()
    event = make_event("Open mic", language="en")
    english = _detail(event, "en")
    assert not english.select_one("dl.facts span.venue").has_attr("lang")
    assert not english.select_one("dl.facts dd.accessibility").has_attr("lang")
    assert not _card_venue("en").has_attr("lang")
    serbian = _detail(event, "sr")
    assert serbian.select_one("dl.facts span.venue")["lang"] == "en"
    assert serbian.select_one("dl.facts dd.accessibility")["lang"] == "en"
    assert _card_venue("sr")["lang"] == "en"


def test_the_organisers_venue_choice_marks_and_converts_venue_names(organiser, venue):
    Venue.objects.create(name="Дом омладине", address="Македонска 22", language="sr")
    Venue.objects.create(name="Community hall", address="Main street 1", language="en")

    def options(language: str) -> dict[str, str | None]:
        page = soup(signed_in(organiser).get(f"/{language}/events/manage/"))
        select = page.select_one("select[name=venue]")
        return {o.get_text(): o.get("lang") for o in select.select("option") if o["value"]}

    assert options("en") == {
        "Community hall": None,
        "Kvaka 22": "sr-latn",
        "Дом омладине": "sr",
    }
    assert options("sr") == {
        "Community hall": "en",
        "Квака 22": None,
        "Дом омладине": None,
    }
    assert options("sr-latn")["Dom omladine"] is None


@pytest.mark.parametrize(
    ("texts", "language"),
    [
        (["Kvaka 22", "Kraljice Natalije 11, Beograd", ""], "sr-latn"),
        (["Дом омладине", "Македонска 22, Београд", "Приземље"], "sr"),
        (["Kvaka 22", "Kraljice Natalije 11", "Ground floor, one step at the door."], "en"),
        (["Дом культуры", "улица Ленина 1", "Вход со двора"], "ru"),
        (["Будинок", "вулиця Шевченка 1", "Вхід з двору, є пандус"], "uk"),
    ],
)
def test_venues_made_before_they_had_a_language_get_one_from_their_letters(texts, language):
    migration = importlib.import_module("krov.events.migrations.0011_venue_language_from_letters")
    assert migration.guess_language(texts) == language


def test_the_migration_writes_the_guess_to_existing_venues(venue):
    from django.apps import apps as django_apps

    cyrillic = Venue.objects.create(name="Дом омладине", address="Македонска 22", language="en")
    migration = importlib.import_module("krov.events.migrations.0011_venue_language_from_letters")
    migration.from_letters(django_apps, None)
    assert Venue.objects.get(pk=cyrillic.pk).language == "sr"
    assert Venue.objects.get(pk=venue.pk).language == "sr-latn"

"""Directory pages in Serbian: organisation names and cities, guide titles in the page's
script; the site search shows each organisation and guide once, in the page's script."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from krov.directory import services
from tests.helpers import soup

from .test_directory import LEGAL

pytestmark = pytest.mark.django_db


@pytest.fixture
def legal(personas):
    proposal = services.propose(actor=personas["member"].user, data=LEGAL)
    return services.approve(proposal, actor=personas["organiser"].user)


@pytest.fixture
def guide(personas):
    return services.save_guide(
        None,
        actor=personas["organiser"].user,
        language="sr-latn",
        topic="banking",
        title="Otvaranje računa u banci",
        body="Pasoš i boravak.",
        verify_by=timezone.localdate() + timedelta(days=30),
    )


def test_organisations_are_listed_in_the_pages_script(legal):
    card = soup(Client().get("/sr/directory/")).select_one("li.card.organisation")
    assert card.h2.get_text(strip=True) == "Правна помоћ"
    assert "Београд" in card.get_text()
    page = soup(Client().get(f"/sr/directory/{legal.slug}/"))
    assert "Београд" in page.select_one("dl.facts").get_text()


def test_guide_titles_are_in_the_pages_script(guide):
    links = soup(Client().get("/sr/guides/")).select("main li a")
    assert "Отварање рачуна у банци" in [a.get_text(strip=True) for a in links]


def test_the_search_shows_each_organisation_and_guide_once_in_the_pages_script(legal, guide):
    for page_language, query, org, title in [
        ("sr", "pravna", "Правна помоћ", None),
        ("sr-latn", "правна", "Pravna pomoć", None),
        ("sr", "računa", None, "Отварање рачуна у банци"),
        ("sr-latn", "рачуна", None, "Otvaranje računa u banci"),
    ]:
        page = soup(Client().get(f"/{page_language}/search/", {"q": query}))
        if org:
            found = [(a["href"], a.get_text()) for a in page.select("ul.org-results li a")]
            assert found == [(f"/{page_language}/directory/{legal.slug}/", org)]
        if title:
            found = [(a["href"], a.get_text()) for a in page.select("ul.guide-results li a")]
            assert found == [(f"/{page_language}/guides/{guide.slug}/", title)]


def test_a_russian_name_keeps_its_letters_on_serbian_pages(personas):
    data = {**LEGAL, "name": "Антивоенная инициатива", "language": "ru", "description": ""}
    org = services.approve(
        services.propose(actor=personas["member"].user, data=data),
        actor=personas["organiser"].user,
    )
    assert org.slug == "antivoennaya-initsiativa"
    page = soup(Client().get(f"/sr-latn/directory/{org.slug}/"))
    assert page.h1.get_text(strip=True) == "Антивоенная инициатива"

"""Housing pages in Serbian show a Serbian listing's title and street in the page's script,
and a Russian or Ukrainian listing as it was written."""

from __future__ import annotations

import pytest
from django.test import Client

from krov.housing import services
from tests.helpers import soup

from .conftest import listing_data

pytestmark = pytest.mark.django_db


def _card(url: str) -> tuple[str, str]:
    card = soup(Client().get(url)).select_one("li.card.listing")
    return card.h2.get_text(strip=True), card.select("p")[-1].get_text(" ", strip=True)


def test_a_serbian_listing_is_shown_in_the_pages_script(listing):
    title, where = _card("/sr/housing/")
    assert title == "Светао стан на Врачару"
    assert "Каленић" in where
    title, where = _card("/sr-latn/housing/")
    assert title == "Svetao stan na Vračaru"
    assert "Kalenić" in where
    page = soup(Client().get(f"/sr/housing/{listing.pk}/"))
    assert page.h1.get_text(strip=True) == "Светао стан на Врачару"


def test_a_russian_listing_is_never_transliterated(member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.post_listing(
            actor=member,
            data=listing_data(
                title="Светлая двушка на Врачаре",
                language="ru",
                location_hint="у Храма Святого Саввы",
                description="Тихий двор.",
            ),
        )
    for page_language in ("sr", "sr-latn"):
        title, where = _card(f"/{page_language}/housing/")
        assert title == "Светлая двушка на Врачаре"
        assert "у Храма Святого Саввы" in where

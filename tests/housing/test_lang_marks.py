"""A listing is shown as its poster wrote it: on a page in another language its title and
description are marked with `lang`; Serbian on a Serbian page (in the page's script) is not."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import soup

pytestmark = pytest.mark.django_db


def test_a_listing_in_another_language_is_marked_with_it(listing):
    page = soup(Client().get(f"/en/housing/{listing.pk}/"))
    assert page.h1["lang"] == "sr-latn"
    assert page.select_one("div.description")["lang"] == "sr-latn"
    card = soup(Client().get("/ru/housing/")).select_one("li.card.listing h2")
    assert card["lang"] == "sr-latn"
    assert soup(Client().get("/en/housing/")).select_one("li.card.listing .lang-label")
    assert soup(Client().get("/sr/housing/")).select_one("li.card.listing .lang-label") is None
    serbian = soup(Client().get(f"/sr/housing/{listing.pk}/"))
    assert not serbian.h1.has_attr("lang")
    assert serbian.h1.get_text(strip=True) == "Светао стан на Врачару"

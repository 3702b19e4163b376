"""Numbers of rooms read as the language counts them: "1 room", "2 rooms", "1.5 rooms"."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from krov.housing import services
from tests.helpers import soup
from tests.housing.conftest import listing_data

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("rooms", "english"), [("1", "1 room"), ("2", "2 rooms"), ("1.5", "1.5 rooms")]
)
def test_listing_pages_count_rooms_in_english_plurals(member, rooms, english):
    listing = services.post_listing(actor=member, data=listing_data(rooms=Decimal(rooms)))
    assert listing.rooms_text == english
    detail = soup(Client().get(f"/en/housing/{listing.pk}/")).get_text(" ")
    assert english in detail
    assert "1 rooms" not in detail
    board = soup(Client().get("/en/housing/")).get_text(" ")
    assert english in board


def test_a_fraction_of_rooms_uses_the_languages_decimal_separator(member):
    listing = services.post_listing(actor=member, data=listing_data(rooms=Decimal("1.5")))
    with translation.override("ru"):
        assert listing.rooms_text.startswith("1,5")

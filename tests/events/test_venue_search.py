"""The venues page's search (krov.events.services.find_venues): any part of a venue's name
or address, in any language it is written in, finds it, typed in either Serbian script and
any case, because both sides go through Krov's one Latin-normalised form
(krov.core.search.normalise), white space folded alike; nothing typed makes the page fail."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from krov.accounts import roles
from krov.core.services import to_cyrillic, to_latin
from krov.events import services
from krov.events.models import Venue
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

VENUES = "/en/events/venues/"

_SERBIAN_CYRILLIC = "абвгдђежзијклљмнњопрстћуфхцчџш"
_SERBIAN_LATIN = "abcčćdđefghijklmnoprsštuvzž"
# Letters of the other Cyrillic alphabets and Latin letters Serbian lacks, digits, the
# characters SQL's LIKE treats as special, and white space as people type (and paste) it.
_OTHER = "ыэъёіїєґйщьяюўqwxy0123456789-.,'’%_\\  \t"
ALPHABET = (
    _SERBIAN_CYRILLIC + _SERBIAN_CYRILLIC.upper() + _SERBIAN_LATIN + _SERBIAN_LATIN.upper() + _OTHER
)
SCRIPTS = {"as typed": str, "Latin": to_latin, "Cyrillic": to_cyrillic}
CASES = {"as typed": str, "upper": str.upper, "lower": str.lower, "title": str.title}


@pytest.fixture
def admin(personas):
    return personas[roles.ADMIN].user


@pytest.fixture
def place(admin):
    venue = Venue.objects.create(name="Kvaka 22", address="Kraljice Natalije 11", language="en")
    services.set_venue_translation(venue, actor=admin, language="ru", name="Квака 22")
    return venue


# One venue for every example: each example writes the text it searches for over it.
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_part_of_a_name_or_address_finds_the_venue_in_either_script_and_any_case(place, data):
    field = data.draw(st.sampled_from(["name", "address", "translated name"]), label="field")
    text = data.draw(st.text(ALPHABET, min_size=1, max_size=120), label="text")
    start = data.draw(st.integers(0, len(text) - 1), label="start")
    part = text[start : data.draw(st.integers(start + 1, len(text)), label="end")]
    assume(part.strip())
    script = data.draw(st.sampled_from(sorted(SCRIPTS)), label="script")
    case = data.draw(st.sampled_from(sorted(CASES)), label="case")
    query = CASES[case](SCRIPTS[script](part))
    if field == "translated name":
        place.translations.update(name=text)
    else:
        Venue.objects.filter(pk=place.pk).update(**{field: text})
    found = [venue.pk for venue in services.find_venues(query)]
    assert place.pk in found, (field, text, query)


def test_white_space_is_folded_in_the_names_searched_as_in_the_query(place):
    Venue.objects.filter(pk=place.pk).update(name="Dom  omladine\tBeograd")
    assert [venue.pk for venue in services.find_venues("dom  omladine beograd")] == [place.pk]
    assert [venue.pk for venue in services.find_venues("Дом омладине  БЕОГРАД")] == [place.pk]


def test_the_search_compares_in_the_sites_one_normalised_form(place, monkeypatch):
    """Not a copy of the rule: the venues page asks krov.core.search.normalise, the function
    site search, the press watch and the bulletins use."""
    from krov.core import search

    seen: list[str] = []
    real = search.normalise

    def spy(text: str) -> str:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(search, "normalise", spy)
    assert [venue.pk for venue in services.find_venues("КВАКА")] == [place.pk]
    assert services.find_venues("nowhere") == []
    assert {"КВАКА", "nowhere", "Kvaka 22", "Kraljice Natalije 11", "Квака 22"} <= set(seen)


@pytest.mark.parametrize(
    "query",
    ["%", "_", "\\", "%_\\", "100%", "a_b", "'", '"', "\x00", "' OR 1=1 --", "k" * 5000, " "],
)
def test_no_query_makes_the_venues_page_fail(place, admin, query):
    response = signed_in(admin).get(VENUES, {"q": query})
    assert response.status_code == 200
    cards = soup(response).select("li.card.venue")
    # Characters that are wildcards elsewhere match only themselves here.
    assert len(cards) == (1 if not query.strip() else 0)

"""A venue's name, address and accessibility notes can be translated, one row per language
(Serbian once, as "sr"): every page shows the translation in its language, else the
venue's own text (Serbian in the page's script, any other marked with its `lang`); the
admin edits translations inline; saving one refreshes the cached pages and the calendar
entries that show it, once committed; pages cost the same queries however many venues."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from krov.accounts import roles
from krov.core import translated
from krov.events import services
from krov.events.models import Event, Venue, VenueTranslation
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(personas):
    user = personas[roles.ADMIN].user
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


@pytest.fixture
def hall(superuser):
    """A venue written in English, with a Russian and a Serbian translation (the Russian
    one without an address: the original's is shown)."""
    venue = Venue.objects.create(
        name="Community hall",
        address="Main street 1",
        language="en",
        accessibility="Ground floor, no steps.",
    )
    services.set_venue_translation(
        venue,
        actor=superuser,
        language="ru",
        name="Общественный зал",
        accessibility="Первый этаж, без ступенек.",
    )
    services.set_venue_translation(
        venue,
        actor=superuser,
        language="sr",
        name="Društveni dom",
        address="Glavna ulica 1",
        accessibility="Prizemlje, bez stepenika.",
    )
    return venue


def _facts(event, language: str):
    page = soup(Client().get(f"/{language}/events/{event.slug}/"))
    return page.select_one("dl.facts")


def _mark(element) -> str | None:
    return element.get("lang")


# --- the one rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("ru", ("Общественный зал", "ru")),
        ("sr", ("Друштвени дом", "sr")),
        ("sr-latn", ("Društveni dom", "sr-latn")),
        ("en", ("Community hall", "en")),
        ("de", ("Community hall", "en")),
        ("uk", ("Community hall", "en")),
    ],
)
def test_a_venue_name_is_its_translation_else_its_own(hall, page, expected):
    shown = services.venue_text(hall, page).name
    assert (shown.text, shown.language) == expected


def test_an_empty_translated_field_falls_back_to_the_original_alone(hall):
    shown = services.venue_text(hall, "ru")
    assert (shown.address.text, shown.address.language) == ("Main street 1", "en")
    assert shown.accessibility.text == "Первый этаж, без ступенек."


def test_a_serbian_venue_without_translation_is_shown_in_the_pages_script(venue):
    assert services.venue_text(venue, "sr").name == translated.Shown("Квака 22", "sr")
    assert services.venue_text(venue, "sr-latn").name == translated.Shown("Kvaka 22", "sr-latn")
    assert services.venue_text(venue, "ru").name == translated.Shown("Kvaka 22", "sr-latn")


def test_a_serbian_translation_typed_in_cyrillic_shows_in_latin_on_latin_pages(superuser):
    venue = Venue.objects.create(name="Hall", address="Street 1", language="en")
    services.set_venue_translation(venue, actor=superuser, language="sr", name="Сала")
    assert services.venue_text(venue, "sr-latn").name.text == "Sala"
    assert services.venue_text(venue, "sr").name.text == "Сала"


# --- pages -----------------------------------------------------------------------------------


def test_the_event_page_shows_the_translation_with_no_lang_of_its_own(hall, event_at):
    event = event_at(hall)
    russian = _facts(event, "ru")
    name = russian.select_one("span.venue")
    assert (name.get_text(), _mark(name)) == ("Общественный зал", None)
    address = russian.select_one("span.venue-address")
    assert (address.get_text(), _mark(address)) == ("Main street 1", "en")
    access = russian.select_one("dd.accessibility")
    assert (access.get_text(), _mark(access)) == ("Первый этаж, без ступенек.", None)


@pytest.mark.parametrize(
    ("page", "name", "address"),
    [("sr", "Друштвени дом", "Главна улица 1"), ("sr-latn", "Društveni dom", "Glavna ulica 1")],
)
def test_the_serbian_translation_is_in_the_pages_script(hall, event_at, page, name, address):
    facts = _facts(event_at(hall), page)
    assert facts.select_one("span.venue").get_text() == name
    assert facts.select_one("span.venue-address").get_text() == address
    assert not facts.select_one("span.venue").has_attr("lang")
    assert not facts.select_one("span.venue-address").has_attr("lang")


def test_a_page_without_translation_shows_the_original_marked_with_its_language(hall, event_at):
    facts = _facts(event_at(hall), "de")
    name = facts.select_one("span.venue")
    assert (name.get_text(), name["lang"]) == ("Community hall", "en")
    assert facts.select_one("dd.accessibility")["lang"] == "en"


def test_the_list_card_shows_the_translated_name(hall, event_at):
    event_at(hall)
    card = soup(Client().get("/ru/events/")).select_one("li.card.event span.venue")
    assert (card.get_text(), _mark(card)) == ("Общественный зал", None)
    card = soup(Client().get("/de/events/")).select_one("li.card.event span.venue")
    assert (card.get_text(), card["lang"]) == ("Community hall", "en")


def test_the_json_ld_place_is_in_the_pages_language(hall, event_at):
    import json

    event = event_at(hall)
    page = soup(Client().get(f"/ru/events/{event.slug}/"))
    data = json.loads(page.select_one('script[type="application/ld+json"]').string)
    assert data["location"]["name"] == "Общественный зал"


def test_the_organisers_venue_choice_shows_translated_names(hall, organiser):
    page = soup(signed_in(organiser).get("/ru/events/manage/"))
    option = page.select_one(f'select[name=venue] option[value="{hall.pk}"]')
    assert (option.get_text(), option.get("lang")) == ("Общественный зал", None)
    page = soup(signed_in(organiser).get("/de/events/manage/"))
    option = page.select_one(f'select[name=venue] option[value="{hall.pk}"]')
    assert (option.get_text(), option.get("lang")) == ("Community hall", "en")


def test_the_calendar_location_is_in_the_events_own_language(hall, event_at):
    russian = event_at(hall, "Открытый микрофон", language="ru")
    english = event_at(hall, "Open mic night", language="en")

    def location(event) -> str:
        body = Client().get(f"/events/{event.slug}.ics").content
        return str(next(iter(Calendar.from_ical(body).walk("VEVENT")))["LOCATION"])

    assert location(russian) == "Общественный зал, Main street 1"
    assert location(english) == "Community hall, Main street 1"


# --- editing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "sr-latn", "tlh", ""])
def test_a_translation_in_the_venues_own_or_an_unknown_language_is_refused(
    hall, superuser, language
):
    with pytest.raises(services.EventError):
        services.set_venue_translation(hall, actor=superuser, language=language, name="X")


def test_a_serbian_venue_takes_no_serbian_translation(venue, superuser):
    with pytest.raises(services.EventError):
        services.set_venue_translation(venue, actor=superuser, language="sr", name="Квака")


@pytest.mark.parametrize("who", [roles.ORGANISER, roles.EDITOR, roles.MEMBER])
def test_only_those_who_manage_venues_translate_them(hall, personas, who):
    with pytest.raises(services.EventError):
        services.set_venue_translation(
            hall, actor=personas[who].user, language="de", name="Gemeindesaal"
        )
    assert not VenueTranslation.objects.filter(venue=hall, language="de").exists()


def test_a_translation_needs_a_name(hall, superuser):
    with pytest.raises(services.EventError):
        services.set_venue_translation(hall, actor=superuser, language="de", name="  ")


def _admin_form(venue: Venue, rows: list[dict]) -> dict:
    data = {
        "name": venue.name,
        "language": venue.language,
        "address": venue.address,
        "osm_url": venue.osm_url,
        "accessibility": venue.accessibility,
        "capacity": venue.capacity or "",
        "time_zone": venue.time_zone,
        "translations-TOTAL_FORMS": str(len(rows)),
        "translations-INITIAL_FORMS": str(sum(1 for row in rows if row.get("id"))),
        "translations-MIN_NUM_FORMS": "0",
        "translations-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"translations-{index}-{key}"] = value
        data[f"translations-{index}-venue"] = str(venue.pk)
    return data


def test_the_admin_adds_a_translation_inline_and_the_pages_follow_on_commit(
    hall, event_at, superuser, django_capture_on_commit_callbacks
):
    event = event_at(hall)
    client = Client()
    assert client.get("/de/events/").status_code == 200
    assert client.get("/de/events/")["X-Krov-Cache"] == "hit"
    sequence = event.sequence
    rows = [
        {
            "id": str(row.pk),
            "language": row.language,
            "name": row.name,
            "address": row.address,
            "accessibility": row.accessibility,
        }
        for row in hall.translations.order_by("language")
    ]
    rows.append(
        {"id": "", "language": "de", "name": "Gemeindesaal", "address": "", "accessibility": ""}
    )
    admin = signed_in(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/admin/events/venue/{hall.pk}/change/", _admin_form(hall, rows))
    assert response.status_code == 302, soup(response).select(".errorlist")
    assert VenueTranslation.objects.get(venue=hall, language="de").name == "Gemeindesaal"
    page = client.get("/de/events/")
    assert page["X-Krov-Cache"] != "hit"
    card = soup(page).select_one("li.card.event span.venue")
    assert (card.get_text(), _mark(card)) == ("Gemeindesaal", None)
    # The German page's name is not in an English event's calendar entry: no new revision.
    event.refresh_from_db()
    assert event.sequence == sequence


def test_the_admin_refuses_a_translation_in_the_venues_own_language(hall, superuser):
    rows = [{"id": "", "language": "en", "name": "Hall", "address": "", "accessibility": ""}]
    response = signed_in(superuser).post(
        f"/admin/events/venue/{hall.pk}/change/", _admin_form(hall, rows)
    )
    assert response.status_code == 200
    assert soup(response).select_one(".errorlist")
    assert not VenueTranslation.objects.filter(venue=hall, language="en").exists()


def test_the_admin_removes_a_translation(hall, event_at, superuser):
    event = event_at(hall, "Открытый микрофон", language="ru")
    sequence = event.sequence
    rows = [
        {
            "id": str(row.pk),
            "language": row.language,
            "name": row.name,
            "address": row.address,
            "accessibility": row.accessibility,
            **({"DELETE": "on"} if row.language == "ru" else {}),
        }
        for row in hall.translations.order_by("language")
    ]
    response = signed_in(superuser).post(
        f"/admin/events/venue/{hall.pk}/change/", _admin_form(hall, rows)
    )
    assert response.status_code == 302
    assert set(hall.translations.values_list("language", flat=True)) == {"sr"}
    # The Russian event's calendar entry now shows the English name: a new revision.
    event.refresh_from_db()
    assert event.sequence == sequence + 1


def test_a_translation_refreshes_the_cached_pages_only_once_committed(
    hall, event_at, superuser, django_capture_on_commit_callbacks
):
    event_at(hall)
    client = Client()
    client.get("/de/events/")
    assert client.get("/de/events/")["X-Krov-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.set_venue_translation(hall, actor=superuser, language="de", name="Gemeindesaal")
    # Not committed yet: the cached page is still the one served.
    assert client.get("/de/events/")["X-Krov-Cache"] == "hit"
    for callback in callbacks:
        callback()
    page = client.get("/de/events/")
    assert page["X-Krov-Cache"] != "hit"
    assert "Gemeindesaal" in soup(page).select_one("li.card.event span.venue").get_text()


# --- queries ---------------------------------------------------------------------------------


def test_event_pages_cost_the_same_queries_however_many_translated_venues(
    hall, event_at, superuser
):
    first = event_at(hall)
    client = Client()

    def count(url: str) -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    urls = ["/ru/events/", f"/ru/events/{first.slug}/", "/sr-latn/events/", "/events/feed.ics"]
    few = [count(url) for url in urls]
    for index in range(12):
        place = Venue.objects.create(name=f"Hall {index}", address=f"Street {index}", language="en")
        for language in ("ru", "uk", "sr", "de"):
            services.set_venue_translation(
                place, actor=superuser, language=language, name=f"{language} {index}"
            )
        event = event_at(place, f"Event {index}")
        Event.objects.filter(pk=event.pk).update(starts_at=first.starts_at, ends_at=first.ends_at)
    assert [count(url) for url in urls] == few


@pytest.mark.parametrize("language", ["ru", "de", "sr-latn"])
def test_event_pages_with_translated_venues_have_none_of_the_html_errors_seen(
    hall, event_at, language
):
    from tests.core.test_html_main_pages import html_problems

    event = event_at(hall)
    assert html_problems(Client().get(f"/{language}/events/{event.slug}/")) == []
    assert html_problems(Client().get(f"/{language}/events/")) == []


def test_the_admin_changing_a_venues_name_refreshes_pages_and_calendars(
    hall, event_at, superuser, django_capture_on_commit_callbacks
):
    event = event_at(hall)
    client = Client()
    client.get("/en/events/")
    assert client.get("/en/events/")["X-Krov-Cache"] == "hit"
    hall.name = "Town hall"
    rows = [
        {
            "id": str(row.pk),
            "language": row.language,
            "name": row.name,
            "address": row.address,
            "accessibility": row.accessibility,
        }
        for row in hall.translations.order_by("language")
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(superuser).post(
            f"/admin/events/venue/{hall.pk}/change/", _admin_form(hall, rows)
        )
    assert response.status_code == 302
    page = client.get("/en/events/")
    assert page["X-Krov-Cache"] != "hit"
    assert soup(page).select_one("li.card.event span.venue").get_text() == "Town hall"
    sequence = event.sequence
    event.refresh_from_db()
    assert event.sequence == sequence + 1


def test_a_translation_left_in_the_venues_new_own_language_never_hides_its_own_text():
    """A venue written in English with a Russian translation, then re-marked as Russian
    (its own text rewritten): the old Russian row must not stand in for the venue's own
    text on Russian pages; other languages still get theirs."""
    from krov.core import translated

    rows = {"ru": "Старое название", "sr": "Ново име"}
    assert translated.pick("Новое название", "ru", rows, page="ru").text == "Новое название"
    assert translated.pick("Новое название", "ru", rows, page="sr").text == "Ново име"
    assert translated.pick("Ново име", "sr-latn", {"sr": "Staro"}, page="sr").text == "Ново име"

"""The venues page (`/<lang>/events/venues/`): whoever keeps the venues (events.change_venue,
the admin role) translates each venue's name, address and accessibility notes there, on a
phone too, instead of in Django's admin. One service writes translations
(krov.events.services.translate_venue), for this page and the admin's inline alike: an empty
language removes its translation, a refusal is a 400 with the form filled in as typed and
the message beside it, a venue that is gone is a 404; public pages and calendars follow once
committed. The page costs the same queries however many venues there are."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from krov.accounts import roles
from krov.events import services
from krov.events.models import Event, Venue, VenueTranslation
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

VENUES = "/en/events/venues/"


@pytest.fixture
def admin(personas):
    return personas[roles.ADMIN].user


@pytest.fixture
def hall(admin):
    """A venue written in English, with a Russian translation."""
    venue = Venue.objects.create(
        name="Community hall",
        address="Main street 1",
        language="en",
        accessibility="Ground floor, no steps.",
    )
    services.set_venue_translation(
        venue,
        actor=admin,
        language="ru",
        name="Общественный зал",
        address="Главная улица 1",
        accessibility="Первый этаж, без ступенек.",
    )
    return venue


def _texts(venue: Venue, **by_language: dict[str, str]) -> dict[str, str]:
    """A POST of the venue's form: its current texts in every language it has a field for,
    with `by_language` ({"de": {"name": ...}}) typed over them."""
    data = {"venue": str(venue.pk)}
    current = {row.language: row for row in venue.translations.all()}
    for language in ("ru", "uk", "sr", "en", "de"):
        if language == venue.language:
            continue
        row = current.get(language)
        for field in ("name", "address", "accessibility"):
            data[f"venue-{venue.pk}-{language}-{field}"] = getattr(row, field, "")
    for language, fields in by_language.items():
        for field, value in fields.items():
            data[f"venue-{venue.pk}-{language}-{field}"] = value
    return data


def _card(response, venue: Venue):
    card = soup(response).select_one(f"li.card.venue#venue-{venue.pk}")
    assert card is not None
    return card


def _facts(event: Event, language: str):
    return soup(Client().get(f"/{language}/events/{event.slug}/")).select_one("dl.facts")


# --- who may use it --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (roles.MEMBER, 403),
        (roles.VOLUNTEER, 403),
        (roles.COORDINATOR, 403),
        (roles.ORGANISER, 403),
        (roles.EDITOR, 403),
        (roles.ADMIN, 200),
    ],
)
def test_only_those_who_keep_venues_open_the_venues_page(hall, personas, who, expected):
    assert signed_in(personas[who].user).get(VENUES).status_code == expected


@pytest.mark.parametrize(
    "who", [roles.MEMBER, roles.VOLUNTEER, roles.COORDINATOR, roles.ORGANISER, roles.EDITOR]
)
def test_no_other_role_can_translate_a_venue_through_the_page(hall, personas, who):
    response = signed_in(personas[who].user).post(VENUES, _texts(hall, de={"name": "Gemeindesaal"}))
    assert response.status_code == 403
    assert not VenueTranslation.objects.filter(venue=hall, language="de").exists()


def test_anonymous_visitors_are_sent_to_sign_in(hall):
    response = Client().get(VENUES)
    assert response.status_code == 302 and "/login/" in response["Location"]
    response = Client().post(VENUES, _texts(hall, de={"name": "Gemeindesaal"}))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not VenueTranslation.objects.filter(venue=hall, language="de").exists()


def test_the_page_declares_the_venue_permission():
    from krov.events import views

    assert views.venues.krov_access == ("perms", ("events.change_venue",))


def test_a_post_without_its_csrf_token_is_refused(hall, admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin, backend="krov.accounts.backends.KrovBackend")
    assert client.post(VENUES, _texts(hall, de={"name": "Gemeindesaal"})).status_code == 403
    assert not VenueTranslation.objects.filter(venue=hall, language="de").exists()


def test_the_administrators_home_leads_to_the_venues_page(admin):
    section = soup(signed_in(admin).get("/en/dashboard/")).select_one("section#accounts-admin")
    assert section.select_one(f'a[href="{VENUES}"]').get_text(strip=True) == (
        "Venues and their translations"
    )


# --- what it shows ---------------------------------------------------------------------------


def test_each_venue_has_a_fieldset_per_other_language_filled_with_its_translation(hall, admin):
    response = signed_in(admin).get(VENUES)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    card = _card(response, hall)
    assert card.h2.get_text() == "Community hall"
    legends = [legend.get_text() for legend in card.select("fieldset legend")]
    # English is the venue's own language: no fields for it; Serbian once, either script.
    assert legends == ["Russian", "Ukrainian", "Serbian (Cyrillic or Latin)", "German"]
    name = card.select_one(f'input[name="venue-{hall.pk}-ru-name"]')
    assert (name["value"], name["lang"]) == ("Общественный зал", "ru")
    note = card.select_one(f'textarea[name="venue-{hall.pk}-ru-accessibility"]')
    assert note.get_text().strip() == "Первый этаж, без ступенек."
    assert card.select_one("input[name=csrfmiddlewaretoken]")
    assert card.select_one("input[name=venue]")["value"] == str(hall.pk)


def test_a_serbian_venue_gets_no_serbian_fields(venue, admin):
    card = _card(signed_in(admin).get(VENUES), venue)
    assert not card.select(f'[name^="venue-{venue.pk}-sr"]')
    assert card.select_one(f'input[name="venue-{venue.pk}-en-name"]')


@pytest.mark.parametrize(
    "query", ["hall", "HALL", "Общественный", "главная", "Kvaka", "КВАКА", "kraljice"]
)
def test_the_search_finds_a_venue_by_any_of_its_names_or_addresses_in_either_script(
    hall, venue, admin, query
):
    found = soup(signed_in(admin).get(VENUES, {"q": query})).select("li.card.venue")
    expected = hall if query.lower() in {"hall", "общественный", "главная"} else venue
    assert [card["id"] for card in found] == [f"venue-{expected.pk}"]


def test_a_search_that_matches_nothing_says_so(hall, admin):
    page = soup(signed_in(admin).get(VENUES, {"q": "nowhere"}))
    assert not page.select("li.card.venue")
    assert page.select_one("ul.cards.venues li.muted").get_text() == "No venue matches."


def test_the_venues_are_paged(admin):
    Venue.objects.bulk_create(
        Venue(name=f"Hall {index:02d}", address="Street", language="en") for index in range(25)
    )
    client = signed_in(admin)
    first = soup(client.get(VENUES)).select("li.card.venue h2")
    second = soup(client.get(VENUES, {"page": 2})).select("li.card.venue h2")
    assert len(first) == 20 and [h.get_text() for h in second] == [
        f"Hall {index}" for index in range(20, 25)
    ]


# --- saving ----------------------------------------------------------------------------------


def test_the_admin_translates_a_venue_and_the_public_pages_follow_on_commit(
    hall, event_at, admin, django_capture_on_commit_callbacks
):
    event = event_at(hall)
    client = Client()
    client.get(f"/de/events/{event.slug}/")
    assert client.get(f"/de/events/{event.slug}/")["X-Krov-Cache"] == "hit"
    keeper = signed_in(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = keeper.post(
            VENUES, _texts(hall, de={"name": " Gemeindesaal ", "address": "Hauptstraße 1"})
        )
    assert response.status_code == 302
    assert response["Location"] == f"{VENUES}#venue-{hall.pk}"
    saved = VenueTranslation.objects.get(venue=hall, language="de")
    assert (saved.name, saved.address, saved.accessibility) == ("Gemeindesaal", "Hauptstraße 1", "")
    page = client.get(f"/de/events/{event.slug}/")
    assert page["X-Krov-Cache"] != "hit"
    facts = soup(page).select_one("dl.facts")
    name = facts.select_one("span.venue")
    assert (name.get_text(), name.get("lang")) == ("Gemeindesaal", None)
    assert facts.select_one("span.venue-address").get_text() == "Hauptstraße 1"
    # No German note: the venue's own, marked as English.
    assert facts.select_one("dd.accessibility")["lang"] == "en"
    messages = soup(keeper.get(response["Location"])).select(".messages li")
    assert [m.get_text() for m in messages] == ["The venue's texts are saved."]


@pytest.mark.parametrize(
    ("page", "name", "address"),
    [("sr", "Друштвени дом", "Главна улица 1"), ("sr-latn", "Društveni dom", "Glavna ulica 1")],
)
def test_a_serbian_translation_typed_in_latin_shows_in_both_scripts(
    hall, event_at, admin, page, name, address
):
    event = event_at(hall)
    response = signed_in(admin).post(
        VENUES, _texts(hall, sr={"name": "Društveni dom", "address": "Glavna ulica 1"})
    )
    assert response.status_code == 302
    facts = _facts(event, page)
    assert facts.select_one("span.venue").get_text() == name
    assert facts.select_one("span.venue-address").get_text() == address
    assert not facts.select_one("span.venue").has_attr("lang")


def test_emptying_a_languages_fields_removes_its_translation(hall, event_at, admin):
    event = event_at(hall, "Открытый микрофон", language="ru")
    sequence = event.sequence
    empty = {"name": "", "address": "", "accessibility": ""}
    response = signed_in(admin).post(VENUES, _texts(hall, ru=empty))
    assert response.status_code == 302
    assert not hall.translations.exists()
    name = _facts(event, "ru").select_one("span.venue")
    assert (name.get_text(), name["lang"]) == ("Community hall", "en")
    # The Russian event's calendar entry now names the venue in English: a new revision.
    event.refresh_from_db()
    assert event.sequence == sequence + 1


def test_an_empty_address_alone_keeps_the_translation_and_shows_the_original_address(
    hall, event_at, admin
):
    event = event_at(hall)
    response = signed_in(admin).post(VENUES, _texts(hall, ru={"address": ""}))
    assert response.status_code == 302
    assert VenueTranslation.objects.get(venue=hall, language="ru").address == ""
    facts = _facts(event, "ru")
    assert facts.select_one("span.venue").get_text() == "Общественный зал"
    address = facts.select_one("span.venue-address")
    assert (address.get_text(), address["lang"]) == ("Main street 1", "en")


def test_saving_the_same_texts_changes_nothing(hall, event_at, admin):
    event = event_at(hall, "Открытый микрофон", language="ru")
    sequence = event.sequence
    client = signed_in(admin)
    response = client.post(VENUES, _texts(hall))
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.sequence == sequence
    assert VenueTranslation.objects.get(venue=hall, language="ru").name == "Общественный зал"
    messages = soup(client.get(response["Location"])).select(".messages li")
    assert [m.get_text() for m in messages] == ["Nothing changed."]


def test_a_new_accessibility_note_is_no_new_calendar_revision_but_a_new_name_is(
    hall, event_at, admin
):
    event = event_at(hall, "Открытый микрофон", language="ru")
    sequence = event.sequence
    client = signed_in(admin)
    assert client.post(VENUES, _texts(hall, ru={"accessibility": "Лифт есть."})).status_code == 302
    event.refresh_from_db()
    assert event.sequence == sequence  # iCal LOCATION is name and address only
    assert client.post(VENUES, _texts(hall, ru={"name": "Большой зал"})).status_code == 302
    event.refresh_from_db()
    assert event.sequence == sequence + 1


def test_the_search_and_page_are_kept_after_saving(hall, admin):
    response = signed_in(admin).post(
        f"{VENUES}?q=hall&page=1", _texts(hall, de={"name": "Gemeindesaal"})
    )
    assert response["Location"] == f"{VENUES}?q=hall&page=1#venue-{hall.pk}"


# --- refusals --------------------------------------------------------------------------------


def test_a_name_too_long_is_refused_beside_its_field_and_nothing_typed_is_lost(hall, admin):
    typed = _texts(hall, de={"name": "G" * 121, "address": "Hauptstraße 1"}, uk={"name": "Зала"})
    response = signed_in(admin).post(VENUES, typed)
    assert response.status_code == 400
    card = _card(response, hall)
    field = card.select_one(f'input[name="venue-{hall.pk}-de-name"]')
    error = field.find_parent(class_="field").select_one("p.error[role=alert]")
    assert "at most 120 characters" in error.get_text()
    assert field["aria-invalid"] == "true"
    # Everything typed is still in the form, the refused text too.
    assert field["value"] == "G" * 121
    for language, value in (("de", "Hauptstraße 1"), ("uk", "Зала")):
        part = "address" if language == "de" else "name"
        shown = card.select_one(f'input[name="venue-{hall.pk}-{language}-{part}"]')
        assert shown["value"] == value
    messages = soup(response).select(".messages li.error")
    assert [m.get_text() for m in messages] == [
        "The venue's texts were not saved: see the form below."
    ]
    assert set(hall.translations.values_list("language", flat=True)) == {"ru"}


def test_an_accessibility_note_too_long_is_refused(hall, admin):
    response = signed_in(admin).post(
        VENUES, _texts(hall, de={"name": "Saal", "accessibility": "x" * 5001})
    )
    assert response.status_code == 400
    area = _card(response, hall).select_one(f'textarea[name="venue-{hall.pk}-de-accessibility"]')
    assert area.find_parent(class_="has-error") is not None
    assert not VenueTranslation.objects.filter(venue=hall, language="de").exists()


def test_an_address_without_a_name_is_refused_beside_the_name(hall, admin):
    response = signed_in(admin).post(VENUES, _texts(hall, de={"address": "Hauptstraße 1"}))
    assert response.status_code == 400
    card = _card(response, hall)
    name = card.select_one(f'input[name="venue-{hall.pk}-de-name"]')
    error = name.find_parent(class_="field").select_one("p.error")
    assert error.get_text() == "Please give the venue's name in this language."
    address = card.select_one(f'input[name="venue-{hall.pk}-de-address"]')
    assert address["value"] == "Hauptstraße 1"
    assert not VenueTranslation.objects.filter(venue=hall, language="de").exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("tlh", "Unknown language."),
        ("sr-latn", "Unknown language."),
        ("en", "The venue is written in this language already: change its own texts instead."),
    ],
)
def test_a_text_in_an_unknown_or_the_venues_own_language_is_refused_above_the_form(
    hall, admin, language, message
):
    typed = _texts(hall, de={"name": "Gemeindesaal"})
    typed[f"venue-{hall.pk}-{language}-name"] = "Hall"
    response = signed_in(admin).post(VENUES, typed)
    assert response.status_code == 400
    card = _card(response, hall)
    assert [p.get_text() for p in card.select("form .errors p.error")] == [message]
    assert card.select_one(f'input[name="venue-{hall.pk}-de-name"]')["value"] == "Gemeindesaal"
    # All or nothing: the German name, valid on its own, waits too.
    assert set(hall.translations.values_list("language", flat=True)) == {"ru"}


@pytest.mark.parametrize("pk", ["999999", "", "abc", "1e3", "١", "9" * 30])
def test_a_venue_that_does_not_exist_is_404(hall, admin, pk):
    data = _texts(hall, de={"name": "Gemeindesaal"})
    data["venue"] = pk
    assert signed_in(admin).post(VENUES, data).status_code == 404
    assert not VenueTranslation.objects.filter(language="de").exists()


def test_a_refused_venue_from_another_page_is_shown_first(admin):
    Venue.objects.bulk_create(
        Venue(name=f"Hall {index:02d}", address="Street", language="en") for index in range(25)
    )
    last = Venue.objects.get(name="Hall 24")
    response = signed_in(admin).post(VENUES, _texts(last, de={"name": "S" * 121}))
    assert response.status_code == 400
    cards = soup(response).select("li.card.venue")
    assert cards[0]["id"] == f"venue-{last.pk}" and len(cards) == 21
    assert cards[0].select_one(".has-error")


# --- the admin's inline: the same service, the same rules -------------------------------------


def test_the_admins_inline_refuses_a_long_note_beside_it_rather_than_forbidding(hall, admin):
    from tests.events.test_venue_translations import _admin_form

    rows = [
        {"id": "", "language": "de", "name": "Saal", "address": "", "accessibility": "x" * 5001}
    ]
    response = signed_in(admin).post(
        f"/admin/events/venue/{hall.pk}/change/", _admin_form(hall, rows)
    )
    assert response.status_code == 200
    assert "At most 5000 characters" in soup(response).select_one(".errorlist").get_text()
    assert not VenueTranslation.objects.filter(venue=hall, language="de").exists()


def test_the_admins_inline_saves_through_the_one_service(hall, admin, monkeypatch):
    from tests.events.test_venue_translations import _admin_form

    calls = []
    real = services.translate_venue

    def spy(venue, *, actor, texts):
        calls.append(dict(texts))
        return real(venue, actor=actor, texts=texts)

    monkeypatch.setattr(services, "translate_venue", spy)
    rows = [
        {
            "id": str(row.pk),
            "language": "uk",  # the Russian row now says Ukrainian
            "name": "Громадська зала",
            "address": "",
            "accessibility": "",
        }
        for row in hall.translations.all()
    ]
    response = signed_in(admin).post(
        f"/admin/events/venue/{hall.pk}/change/", _admin_form(hall, rows)
    )
    assert response.status_code == 302
    assert calls == [
        {"ru": {}, "uk": {"name": "Громадська зала", "address": "", "accessibility": ""}}
    ]
    assert set(hall.translations.values_list("language", flat=True)) == {"uk"}


# --- queries and the checks that walk every page ---------------------------------------------


def test_the_venues_page_costs_the_same_queries_however_many_venues(hall, admin):
    client = signed_in(admin)

    def count(**params) -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(VENUES, params).status_code == 200
        return len(captured)

    few = [count(), count(q="hall")]
    for index in range(15):
        place = Venue.objects.create(name=f"Hall {index}", address=f"Street {index}", language="en")
        for language in ("ru", "uk", "sr", "de"):
            services.set_venue_translation(
                place, actor=admin, language=language, name=f"{language} {index}"
            )
    assert [count(), count(q="hall")] == few


def test_the_venues_page_is_walked_by_axe_and_the_html_guard(personas):
    from tests.main_pages import organisers_event, signed_in_pages

    event = organisers_event(personas[roles.ORGANISER].user)
    walked = {(role, page.path) for role, page in signed_in_pages("en", event)}
    assert (roles.ADMIN, VENUES) in walked


def test_the_venues_page_has_none_of_the_html_errors_seen(hall, venue, admin):
    from tests.core.test_html_main_pages import html_problems

    client = signed_in(admin)
    assert html_problems(client.get(VENUES)) == []
    refused = client.post(VENUES, _texts(hall, de={"name": "G" * 121}))
    assert refused.status_code == 400 and html_problems(refused) == []

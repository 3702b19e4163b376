"""A venue's own fields, saved in Django's admin, go through one service
(krov.events.services.save_venue): it saves what changed and nothing else, records one audit
event naming the fields changed (never their values), refreshes the public pages once the
change commits, and gives the calendar entries of the events held there a new revision
(SEQUENCE) only when what their LOCATION shows changed: the name, the address, or the
language they are written in (which decides the script and whether a translation stands in)."""

from __future__ import annotations

import pytest
from django.test import Client
from icalendar import Calendar

from krov.accounts import roles
from krov.core.models import AuditEvent
from krov.events import services
from krov.events.models import Event, Venue
from krov.events.services import AuditKind
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(personas):
    return personas[roles.ADMIN].user


@pytest.fixture
def hall(db):
    return Venue.objects.create(
        name="Community hall",
        address="Main street 1",
        language="en",
        osm_url="https://www.openstreetmap.org/node/1",
        accessibility="Ground floor.",
        capacity=30,
    )


def _form(venue: Venue, **typed) -> dict:
    """The admin's change (or add) form of `venue` as it is, with `typed` over it."""
    data = {
        "name": venue.name,
        "language": venue.language,
        "address": venue.address,
        "osm_url": venue.osm_url,
        "accessibility": venue.accessibility,
        "capacity": venue.capacity or "",
        "time_zone": venue.time_zone,
        "translations-TOTAL_FORMS": "0",
        "translations-INITIAL_FORMS": "0",
        "translations-MIN_NUM_FORMS": "0",
        "translations-MAX_NUM_FORMS": "1000",
    }
    data.update(typed)
    return data


def _change(client: Client, venue: Venue, **typed):
    response = client.post(f"/admin/events/venue/{venue.pk}/change/", _form(venue, **typed))
    assert response.status_code == 302, soup(response).select(".errorlist")
    return response


def _recorded(kind: str | None = None) -> list[AuditEvent]:
    kinds = [kind] if kind else [AuditKind.VENUE_ADDED, AuditKind.VENUE_CHANGED]
    return list(AuditEvent.objects.filter(kind__in=kinds).order_by("id"))


def _sequence(event: Event) -> int:
    event.refresh_from_db()
    return event.sequence


def test_the_admins_form_saves_through_the_service(hall, admin, monkeypatch):
    calls = []
    real = services.save_venue

    def spy(venue, *, actor, fields=None):
        calls.append((venue.pk, actor.pk, sorted(fields or [])))
        return real(venue, actor=actor, fields=fields)

    monkeypatch.setattr(services, "save_venue", spy)
    _change(signed_in(admin), hall, name="Town hall", capacity="40")
    assert calls == [(hall.pk, admin.pk, ["capacity", "name"])]
    hall.refresh_from_db()
    assert (hall.name, hall.capacity) == ("Town hall", 40)


@pytest.mark.parametrize(
    ("field", "typed", "new_revision"),
    [
        ("name", "Town hall", True),
        ("address", "Park street 2", True),
        ("language", "de", True),
        ("capacity", "45", False),
        ("accessibility", "Two steps at the door.", False),
        ("osm_url", "https://www.openstreetmap.org/node/2", False),
        ("time_zone", "Europe/Vienna", False),
    ],
)
def test_a_calendar_entry_gets_a_new_revision_only_when_its_location_changes(
    hall, event_at, admin, field, typed, new_revision
):
    event = event_at(hall)
    before = _sequence(event)
    _change(signed_in(admin), hall, **{field: typed})
    assert _sequence(event) == before + (1 if new_revision else 0)
    (changed,) = _recorded()
    assert changed.kind == AuditKind.VENUE_CHANGED
    assert (changed.actor_id_ref, changed.actor_pseudonym) == (admin.pk, admin.pseudonym)
    assert changed.target == f"venue:{hall.pk}"
    hall.refresh_from_db()
    # Which fields, never what they say now.
    assert changed.detail == {"venue": hall.name, "fields": [field]}


def test_the_form_sent_unchanged_saves_records_and_revises_nothing(hall, event_at, admin):
    event = event_at(hall)
    before = _sequence(event)
    client = signed_in(admin)
    _change(client, hall)
    assert _recorded() == [] and _sequence(event) == before
    # Then a change is recorded, once, and revises the entry once.
    _change(client, hall, name="Town hall")
    assert [e.detail["fields"] for e in _recorded()] == [["name"]]
    assert _sequence(event) == before + 1


def test_the_venues_language_is_part_of_what_the_calendar_shows(
    admin, event_at, django_capture_on_commit_callbacks
):
    """Why a new language is a new revision: a Serbian venue's name is shown in the entry's
    script; written in Russian, as it is."""
    venue = Venue.objects.create(name="Квака 22", address="Краљице Наталије 11", language="sr")
    event = event_at(venue, "Otvoreni mikrofon", language="sr-latn")

    def location() -> str:
        (entry,) = Calendar.from_ical(Client().get(f"/events/{event.slug}.ics").content).walk(
            "VEVENT"
        )
        return str(entry["LOCATION"])

    assert location() == "Kvaka 22, Kraljice Natalije 11"
    before = _sequence(event)
    with django_capture_on_commit_callbacks(execute=True):
        _change(signed_in(admin), venue, language="ru")
    assert location() == "Квака 22, Краљице Наталије 11"
    assert _sequence(event) == before + 1


def test_adding_a_venue_in_the_admin_records_it(admin):
    typed = Venue(name="Garden", address="Park 2", language="en")
    response = signed_in(admin).post("/admin/events/venue/add/", _form(typed))
    assert response.status_code == 302, soup(response).select(".errorlist")
    venue = Venue.objects.get(name="Garden")
    (added,) = _recorded()
    assert added.kind == AuditKind.VENUE_ADDED
    assert added.actor_id_ref == admin.pk
    assert (added.target, added.detail) == (f"venue:{venue.pk}", {"venue": "Garden"})


def test_the_pages_are_refreshed_only_once_the_change_commits(
    hall, event_at, admin, django_capture_on_commit_callbacks
):
    event_at(hall)
    client = Client()
    client.get("/en/events/")
    assert client.get("/en/events/")["X-Krov-Cache"] == "hit"
    hall.name = "Town hall"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert services.save_venue(hall, actor=admin) == ["name"]
    assert client.get("/en/events/")["X-Krov-Cache"] == "hit"  # not committed yet
    for callback in callbacks:
        callback()
    page = client.get("/en/events/")
    assert page["X-Krov-Cache"] != "hit"
    assert soup(page).select_one("li.card.event span.venue").get_text() == "Town hall"


def test_the_service_saves_only_the_fields_it_is_given(hall, admin):
    hall.name, hall.capacity = "Town hall", 99
    assert services.save_venue(hall, actor=admin, fields=["capacity"]) == ["capacity"]
    stored = Venue.objects.get(pk=hall.pk)
    assert (stored.name, stored.capacity) == ("Community hall", 99)


@pytest.mark.parametrize("who", [roles.ORGANISER, roles.EDITOR, roles.COORDINATOR])
def test_only_those_who_keep_venues_change_them(hall, personas, who):
    hall.name = "Taken over"
    with pytest.raises(services.EventError):
        services.save_venue(hall, actor=personas[who].user)
    with pytest.raises(services.EventError):
        services.save_venue(Venue(name="New", address="Street 1"), actor=personas[who].user)
    assert Venue.objects.get(pk=hall.pk).name == "Community hall"
    assert not Venue.objects.filter(name="New").exists()
    assert _recorded() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", ""), ("name", "N" * 121), ("language", "tlh"), ("osm_url", "not a link")],
)
def test_a_value_the_model_does_not_take_is_refused(hall, admin, field, value):
    setattr(hall, field, value)
    with pytest.raises(services.EventError):
        services.save_venue(hall, actor=admin)
    assert getattr(Venue.objects.get(pk=hall.pk), field) != value
    assert _recorded() == []


def test_a_venue_removed_meanwhile_is_not_saved_again(hall, admin):
    Venue.objects.filter(pk=hall.pk).delete()
    hall.name = "Town hall"
    with pytest.raises(services.EventError):
        services.save_venue(hall, actor=admin)
    assert not Venue.objects.exists()


@pytest.mark.parametrize(
    ("zone", "said"),
    [
        ("Europe/Belgrad", "time zone"),
        ("../../etc/passwd", "time zone"),
        ("Europe/Belgrade\x00", "null characters"),
        ("x" * 65, "at most 64 characters"),
    ],
)
def test_a_mistyped_time_zone_is_refused_with_a_message_and_nothing_saved(hall, admin, zone, said):
    """A zone no calendar can build would answer 500 on the feed of every event held there."""
    client = signed_in(admin)
    response = client.post(f"/admin/events/venue/{hall.pk}/change/", _form(hall, time_zone=zone))
    assert response.status_code == 200
    errors = " ".join(e.get_text() for e in soup(response).select(".errorlist"))
    assert said in errors.lower()
    hall.refresh_from_db()
    assert hall.time_zone == "Europe/Belgrade"
    assert not _recorded()


def test_the_service_refuses_a_mistyped_time_zone(hall, admin):
    hall.time_zone = "Mars/Olympus"
    with pytest.raises(services.EventError):
        services.save_venue(hall, actor=admin, fields=["time_zone"])
    hall.refresh_from_db()
    assert hall.time_zone == "Europe/Belgrade"

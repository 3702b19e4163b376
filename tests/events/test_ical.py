"""The iCalendar files (krov/events/ical.py and the feed views) as calendar clients read them:
a second, independent parser (vobject) that resolves times through the file's own
VTIMEZONE, as Thunderbird's engine does, plus UIDs, SEQUENCE, METHOD and conditional GET."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
import vobject
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from krov.events import services
from krov.events.models import Event

pytestmark = pytest.mark.django_db

BELGRADE = ZoneInfo("Europe/Belgrade")


@pytest.fixture
def at(organiser, venue):
    """An event published at a given local time in Belgrade."""

    def _at(when: datetime, title: str = "Вече поезије") -> Event:
        event = services.create_event(
            actor=organiser,
            title=title,
            language="sr",
            starts_at=when,
            ends_at=when + timedelta(hours=2),
            venue=venue,
            summary="Песме и разговор",
        )
        services.publish(event, actor=organiser)
        event.refresh_from_db()
        return event

    return _at


def _strict(body: bytes):
    """Parse as a strict second reader: vobject with validation; one calendar, nothing left.
    vobject keeps the first VTIMEZONE it met for a TZID for the whole process: forget it, so
    each file's times go through that file's own VTIMEZONE."""
    vars(vobject.icalendar)["__tzidMap"].clear()
    calendars = list(vobject.readComponents(body.decode(), validate=True))
    assert len(calendars) == 1
    return calendars[0]


@pytest.mark.parametrize(
    ("local", "offset_hours"),
    [
        # Summer time past icalendar's default end (2038), winter time, and far beyond.
        (datetime(2040, 7, 1, 19, 0, tzinfo=BELGRADE), 2),
        (datetime(2040, 1, 15, 19, 0, tzinfo=BELGRADE), 1),
        (datetime(2061, 8, 1, 19, 0, tzinfo=BELGRADE), 2),
    ],
)
def test_time_zone_in_the_file_places_far_future_events_right(at, local, offset_hours):
    event = at(local)
    for url in (f"/events/{event.slug}.ics", "/events/feed.ics"):
        calendar = _strict(Client().get(url).content)
        starts = calendar.vevent.dtstart.value
        # vobject builds the zone from the file's VTIMEZONE, not from the system's zones.
        assert starts.utcoffset() == timedelta(hours=offset_hours), url
        assert starts == event.starts_at


def test_time_zone_covers_every_event_in_the_feed(at):
    soon = at(timezone.now().astimezone(BELGRADE).replace(microsecond=0) + timedelta(days=2))
    far = at(datetime(2045, 6, 10, 20, 0, tzinfo=BELGRADE), title="Далеко")
    calendar = _strict(Client().get("/events/feed.ics").content)
    starts = {str(v.summary.value): v.dtstart.value for v in calendar.vevent_list}
    assert starts["Вече поезије"] == soon.starts_at
    assert starts["Далеко"] == far.starts_at
    assert starts["Далеко"].utcoffset() == timedelta(hours=2)


def test_uids_and_links_come_from_the_site_url_not_the_host_header(at, settings):
    settings.KROV_SITE_URL = "https://krov.example.org"
    settings.ALLOWED_HOSTS = ["*"]
    event = at(datetime(2031, 5, 5, 18, 0, tzinfo=BELGRADE))
    for host in ("testserver", "attacker.example"):
        for url in (f"/events/{event.slug}.ics", "/events/feed.ics"):
            response = Client().get(url, HTTP_HOST=host)
            (vevent,) = Calendar.from_ical(response.content).walk("VEVENT")
            assert vevent["UID"] == f"event-{event.pk}@krov.example.org"
            assert vevent["URL"] == f"https://krov.example.org/sr/events/{event.slug}/"


def test_files_say_they_are_published_calendars(at):
    event = at(datetime(2031, 5, 5, 18, 0, tzinfo=BELGRADE))
    for url in (f"/events/{event.slug}.ics", "/events/feed.ics"):
        calendar = _strict(Client().get(url).content)
        assert calendar.method.value == "PUBLISH"


def _vevent(event: Event):
    (vevent,) = Calendar.from_ical(Client().get(f"/events/{event.slug}.ics").content).walk("VEVENT")
    return vevent


def test_every_change_calendars_show_raises_sequence_and_last_modified(
    at, organiser, django_capture_on_commit_callbacks
):
    event = at(datetime(2031, 5, 5, 18, 0, tzinfo=BELGRADE))
    first = _vevent(event)
    assert first.decoded("LAST-MODIFIED") == event.updated_at.replace(microsecond=0)

    changes = [
        lambda: services.update_event(
            event, actor=organiser, starts_at=event.starts_at + timedelta(hours=1)
        ),
        lambda: services.set_text(event, actor=organiser, language="sr", title="Ново име"),
        lambda: services.cancel(event, actor=organiser),
    ]
    seen = [int(first["SEQUENCE"])]
    moments = [first.decoded("LAST-MODIFIED")]
    for step, change in enumerate(changes, start=1):
        with (
            time_machine.travel(timezone.now() + timedelta(minutes=10 * step)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            change()
        vevent = _vevent(Event.objects.get(pk=event.pk))
        seen.append(int(vevent["SEQUENCE"]))
        moments.append(vevent.decoded("LAST-MODIFIED"))
    assert seen == sorted(set(seen)), seen
    assert moments == sorted(set(moments)), moments
    assert vevent["STATUS"] == "CANCELLED"


def test_a_change_calendars_do_not_show_keeps_the_sequence(at, organiser):
    event = at(datetime(2031, 5, 5, 18, 0, tzinfo=BELGRADE))
    before = int(_vevent(event)["SEQUENCE"])
    services.update_event(event, actor=organiser, capacity=40)
    assert int(_vevent(Event.objects.get(pk=event.pk))["SEQUENCE"]) == before


@pytest.mark.parametrize("which", ["single", "feed"])
def test_calendar_files_answer_304_while_unchanged_and_200_after_a_change(
    at, organiser, which, django_capture_on_commit_callbacks
):
    event = at(datetime(2031, 5, 5, 18, 0, tzinfo=BELGRADE))
    url = f"/events/{event.slug}.ics" if which == "single" else "/events/feed.ics"
    first = Client().get(url)
    assert first.status_code == 200
    etag, modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"')

    assert Client().get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert Client().get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert Client().head(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    with (
        time_machine.travel(timezone.now() + timedelta(minutes=5)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.set_text(event, actor=organiser, language="sr", title="Промењено")
    again = Client().get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert again["ETag"] != etag
    assert "Промењено" in again.content.decode()
    assert Client().get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 200


def test_calendar_files_are_served_from_the_page_cache_until_an_event_changes(
    make_event, organiser, django_capture_on_commit_callbacks
):
    from krov.core import pagecache

    event = make_event()
    reader = Client()
    for url in (f"/events/{event.slug}.ics", "/events/feed.ics"):
        assert reader.get(url)[pagecache.HEADER] == "miss"
        assert reader.get(url)[pagecache.HEADER] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        services.update_event(event, actor=organiser, capacity=40)
    for url in (f"/events/{event.slug}.ics", "/events/feed.ics"):
        response = reader.get(url)
        assert response[pagecache.HEADER] == "miss"
        assert b"SEQUENCE:1" in response.content


def test_an_unlisted_events_calendar_file_is_never_kept_in_the_page_cache(make_event):
    from krov.core import pagecache

    event = make_event(visibility=Event.Visibility.UNLISTED)
    reader = Client()
    reader.get(f"/events/{event.slug}.ics")
    assert pagecache.HEADER not in reader.get(f"/events/{event.slug}.ics")


@pytest.mark.parametrize("stored", ["Europe", "Europe/Belgrad"])
def test_an_event_whose_stored_zone_is_no_zone_gets_a_calendar_in_the_sites_zone(at, stored):
    """Zones stored before they were checked where typed: the calendar is built in the
    site's zone rather than failing (a folder of zones such as "Europe" raised
    IsADirectoryError)."""
    event = at(datetime(2040, 7, 1, 19, 0, tzinfo=BELGRADE))
    Event.objects.filter(pk=event.pk).update(time_zone=stored)
    for url in (f"/events/{event.slug}.ics", "/events/feed.ics"):
        response = Client().get(url)
        assert response.status_code == 200, url
        parsed = _strict(response.content)
        assert parsed.vevent.dtstart.value == datetime(2040, 7, 1, 19, 0, tzinfo=BELGRADE)

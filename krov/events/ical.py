"""RFC 5545 calendars of events, with their time zones, via the icalendar library.

What strict readers (Thunderbird's engine among them) rely on: every VTIMEZONE covers the
dates of the events that use it (icalendar's default stops at 2038); UIDs are built from the
configured site address, never from the request's Host header, so they stay the same however
the file was fetched; SEQUENCE and LAST-MODIFIED move when the event changes, so subscribed
calendars replace their copy; METHOD:PUBLISH says the file is a published calendar."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation
from icalendar import Calendar, Timezone
from icalendar import Event as IcalEvent

from krov.core import links
from krov.core.inputs import zone_or
from krov.events.models import Event
from krov.events.services import venue_text


def uid(event: Event) -> str:
    return f"event-{event.pk}@{links.host()}"


@lru_cache(maxsize=64)
def _timezone(name: str, first_year: int, last_year: int) -> Timezone:
    # Building the transitions takes a while: one per zone and span of years is enough.
    zone = Timezone.from_tzinfo(
        ZoneInfo(name),
        tzid=name,
        first_date=date(first_year, 1, 1),
        last_date=date(last_year, 12, 31),
    )
    # One transition per RDATE line: some readers (vobject, older Outlook) take only the
    # first value of a comma-separated RDATE and get every later summer time wrong.
    for rule in zone.subcomponents:
        found = rule.pop("RDATE", None)
        if found is None:
            continue
        for values in found if isinstance(found, list) else [found]:
            for value in values.dts:
                rule.add("rdate", value.dt)
    return zone


def calendar(events: Iterable[Event], *, name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Krov//events//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    spans: dict[str, tuple[int, int]] = {}
    for event in events:
        text = event.text(event.original_language)
        zone_name = zone_or(event.time_zone, settings.TIME_ZONE)
        zone = ZoneInfo(zone_name)
        starts, ends = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
        first, last = spans.get(zone_name, (starts.year, ends.year))
        spans[zone_name] = (min(first, starts.year), max(last, ends.year))
        item = IcalEvent()
        item.add("uid", uid(event))
        item.add("sequence", event.sequence)
        item.add("summary", text.title if text else event.slug)
        if text and text.summary:
            item.add("description", text.summary)
        item.add("dtstart", starts)
        item.add("dtend", ends)
        # The revision this entry describes: stable, so the file's ETag is too.
        item.add("dtstamp", event.updated_at)
        item.add("last-modified", event.updated_at)
        item.add("created", event.created_at)
        # The venue in the event's own language too (its translation, else its own texts).
        location = event.address
        if event.venue:
            venue = venue_text(event.venue, event.original_language)
            location = f"{venue.name}, {venue.address}"
        if location:
            item.add("location", location)
        # The page in the event's own language: the same file whatever the reader's language.
        with translation.override(event.original_language):
            item.add("url", links.absolute(event.get_absolute_url()))
        item.add("status", "CANCELLED" if event.status == Event.Status.CANCELLED else "CONFIRMED")
        cal.add_component(item)
    # Each zone's rules from a year before its first event to a year after its last one.
    zones = [_timezone(tz, first - 1, last + 1) for tz, (first, last) in sorted(spans.items())]
    cal.subcomponents[:0] = zones
    return cal.to_ical()

"""RFC 5545 calendars of events, with their time zones, via the icalendar library."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as IcalEvent

from krov.events.models import Event


def calendar(events: Iterable[Event], *, base_url: str, name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Krov//events//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    host = base_url.split("//", 1)[-1].split("/", 1)[0] or "krov"
    for event in events:
        text = event.text(event.original_language)
        zone = ZoneInfo(event.time_zone)
        item = IcalEvent()
        item.add("uid", f"event-{event.pk}@{host}")
        item.add("summary", text.title if text else event.slug)
        if text and text.summary:
            item.add("description", text.summary)
        item.add("dtstart", event.starts_at.astimezone(zone))
        item.add("dtend", event.ends_at.astimezone(zone))
        item.add("dtstamp", event.updated_at)
        location = f"{event.venue.name}, {event.venue.address}" if event.venue else event.address
        if location:
            item.add("location", location)
        item.add("url", base_url.rstrip("/") + event.get_absolute_url())
        item.add("status", "CANCELLED" if event.status == Event.Status.CANCELLED else "CONFIRMED")
        cal.add_component(item)
    cal.add_missing_timezones()
    return cal.to_ical()

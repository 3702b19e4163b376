"""English plurals in the events' messages: "1 person", never "1 people"."""

from __future__ import annotations

import pytest
from django.test import Client

from krov.events.models import Event
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db


def test_counting_oneself_in_says_one_person(make_event):
    event = make_event("Protest", language="en", rsvp_mode=Event.RSVP.COUNT)
    page = Client().post(f"/en/events/{event.slug}/count/", follow=True)
    assert soup(page).select_one(".messages").get_text(strip=True) == (
        "Counted. 1 person is coming."
    )


def test_repeating_an_event_once_says_one_more_date(make_event, organiser):
    event = make_event("Lecture", language="en", kind=Event.Kind.LECTURE)
    page = signed_in(organiser).post(
        f"/en/events/manage/{event.slug}/repeat/", {"every": "weekly", "count": "1"}, follow=True
    )
    assert soup(page).select_one(".messages").get_text(strip=True) == "1 more date created."

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from krov.accounts import roles
from krov.events import services
from krov.events.models import Event, Venue


@pytest.fixture
def organiser(personas):
    return personas[roles.ORGANISER].user


@pytest.fixture
def venue(db):
    return Venue.objects.create(
        name="Kvaka 22",
        address="Kraljice Natalije 11, Beograd",
        language="sr-latn",
        osm_url="https://www.openstreetmap.org/node/123",
        capacity=30,
    )


@pytest.fixture
def make_event(organiser, venue):
    def _make(
        title="Отворени микрофон",
        *,
        language="sr",
        kind=Event.Kind.OPEN_MIC,
        capacity=None,
        rsvp_mode=Event.RSVP.OPEN,
        days=3,
        publish=True,
        visibility=Event.Visibility.PUBLIC,
    ) -> Event:
        starts = timezone.now().replace(microsecond=0) + timedelta(days=days)
        event = services.create_event(
            actor=organiser,
            title=title,
            language=language,
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            kind=kind,
            venue=venue,
            capacity=capacity,
            rsvp_mode=rsvp_mode,
            visibility=visibility,
            summary="Свако може да изађе на бину",
            description="**Добродошли** сви.",
        )
        if publish:
            services.publish(event, actor=organiser)
        event.refresh_from_db()
        return event

    return _make


@pytest.fixture
def event_at(make_event):
    """An event (as `make_event` makes it) held at `venue`."""

    def _make(venue, title="Open mic", *, language="en"):
        event = make_event(title, language=language)
        Event.objects.filter(pk=event.pk).update(venue=venue)
        event.refresh_from_db()
        return event

    return _make

"""Public data (and some private data that must not show) for the API tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from krov.accounts import services as account_services
from krov.bulletins import services as bulletins
from krov.events import services as events
from krov.events.models import Event


@pytest.fixture
def data(personas):
    organiser = personas["organiser"].user
    editor = personas["editor"].user
    other = account_services.create_account(
        email="e2@example.org", pseudonym="Second", password=None, roles=["editor"]
    )
    from krov.events.models import Venue

    venue = Venue.objects.create(name="Kvaka 22", address="Kraljice Natalije 11")
    starts = timezone.now() + timedelta(days=2)
    event = events.create_event(
        actor=organiser,
        title="Отворени микрофон",
        language="sr",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        venue=venue,
        kind=Event.Kind.OPEN_MIC,
    )
    events.publish(event, actor=organiser)
    events.rsvp(event, name="Private Person", contact="private@example.org")
    hidden = events.create_event(
        actor=organiser,
        title="Members",
        language="en",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        visibility=Event.Visibility.MEMBERS,
    )
    events.publish(hidden, actor=organiser)
    post = bulletins.create_post(
        actor=editor, language="ru", title="Правда о войне", body="Текст", tags=["война"]
    )
    bulletins.submit(post, actor=editor)
    bulletins.approve(post, actor=other)
    bulletins.create_post(actor=editor, language="en", title="Draft", body="secret draft")
    return {"event": event, "post": post}

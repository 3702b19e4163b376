"""Event dates on real pages, in each language's grammar (krov/core/formats)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from krov.events import services
from tests.helpers import soup

pytestmark = pytest.mark.django_db

STARTS = datetime(2030, 12, 5, 19, 30, tzinfo=ZoneInfo("Europe/Belgrade"))


@pytest.fixture
def dated_event(organiser, venue):
    event = services.create_event(
        actor=organiser,
        title="Вече поезије",
        language="sr",
        starts_at=STARTS,
        ends_at=STARTS.replace(hour=22, minute=0),
        venue=venue,
    )
    services.publish(event, actor=organiser)
    return event


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("ru", "Четверг, 5 декабря 2030, 19:30"),
        ("uk", "Четвер, 5 грудня 2030, 19:30"),
        ("sr", "четвртак, 5. децембар 2030. 19:30"),
        ("sr-latn", "četvrtak, 5. decembar 2030. 19:30"),
        ("en", "Thursday, 5 December 2030, 19:30"),
        ("de", "Donnerstag, 5. Dezember 2030, 19:30"),
    ],
)
def test_event_page_writes_the_date_as_its_language_does(dated_event, language, shown):
    page = soup(Client().get(f"/{language}/events/{dated_event.slug}/"))
    when = page.select_one("dd time")
    assert when.get_text() == shown
    # The end is a time of day on the same 24-hour clock.
    assert when.parent.get_text().endswith("– 22:00")


@pytest.mark.parametrize(
    ("language", "shown"),
    [("ru", "5 декабря 2030"), ("uk", "5 грудня 2030"), ("sr-latn", "5. decembar 2030.")],
)
def test_event_list_card_writes_the_date_as_its_language_does(dated_event, language, shown):
    page = soup(Client().get(f"/{language}/events/"))
    assert shown in page.select_one("li.event time").get_text()


def test_channel_announcement_writes_the_date_in_the_events_language(
    dated_event, organiser, settings
):
    from krov.telegram.models import Outbound

    settings.TELEGRAM_CHANNEL_ID = "@krov_news"
    services.announce(dated_event, actor=organiser, url="https://krov.example.org/sr/events/x/")
    (post,) = Outbound.objects.filter(channel="@krov_news")
    assert "5. децембар 2030. 19:30" in json.loads(post.params)["text"]

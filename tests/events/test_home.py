"""An organiser's home shows their next events with who is coming, check-in and the live
queue of the next one, and their tools; nobody else gets the panel; its queries do not grow
with the number of events."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from krov.accounts import roles
from krov.accounts import services as account_services
from krov.accounts.models import User
from krov.events import home as events_home
from krov.events import services
from krov.events.models import Event
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

KEY = "events-organiser"


def panel_items(page) -> list[tuple[str, str, str | None]]:
    """(label, link, count or None) of each line of the organiser's panel, in order."""
    section = page.select_one(f"section#{KEY}")
    assert section is not None, "no organiser panel"
    rows = []
    for li in section.select("li"):
        count = li.select_one(".count")
        rows.append((li.a.get_text(strip=True), li.a["href"], count.get_text() if count else None))
    return rows


def home_of(user, language: str = "en"):
    response = signed_in(user).get(f"/{language}/dashboard/")
    assert response.status_code == 200
    return soup(response)


def test_the_organisers_home_lists_their_next_three_events_soonest_first_with_who_is_coming(
    make_event, organiser
):
    later = make_event("Later", language="en", kind=Event.Kind.LECTURE, days=4)
    soonest = make_event("Soonest", language="en", kind=Event.Kind.LECTURE, days=1, capacity=2)
    second = make_event("Second", language="en", kind=Event.Kind.LECTURE, days=2)
    make_event("Fourth, not shown", language="en", kind=Event.Kind.LECTURE, days=5)
    make_event("Over", language="en", kind=Event.Kind.LECTURE, days=-2)
    cancelled = make_event("Cancelled", language="en", kind=Event.Kind.LECTURE, days=1)
    services.cancel(cancelled, actor=organiser)
    # Coming: two names; not coming: the waiting list, an unconfirmed mail, a cancellation.
    services.rsvp(soonest, name="Ana")
    services.cancel_rsvp(services.rsvp(soonest, name="Boris").rsvp)
    services.rsvp(soonest, name="Vera")
    services.rsvp(soonest, name="Goran")  # full: waiting list
    services.rsvp(soonest, name="Dana", contact="dana@example.org")  # not confirmed
    services.rsvp(second, name="Ana")

    items = panel_items(home_of(organiser))

    assert items[:3] == [
        ("Soonest", f"/en/events/manage/{soonest.slug}/", "2"),
        ("Second", f"/en/events/manage/{second.slug}/", "1"),
        ("Later", f"/en/events/manage/{later.slug}/", "0"),
    ]
    labels = [label for label, _link, _count in items]
    assert not {"Fourth, not shown", "Over", "Cancelled"} & set(labels)


def test_the_organisers_home_reaches_their_events_and_a_new_one_in_one_click(organiser):
    items = panel_items(home_of(organiser))  # no events yet: the tools are there all the same
    assert items == [
        ("My events", "/en/events/manage/", None),
        ("New event", "/en/events/manage/#new-heading", None),
    ]
    page = soup(signed_in(organiser).get("/en/events/manage/"))
    assert page.select_one("#new-heading") is not None  # the anchor the link goes to


def test_check_in_and_the_live_queue_are_for_the_next_published_event(make_event):
    draft = make_event("Draft mic", language="en", days=1, publish=False)
    mic = make_event("Poetry mic", language="en", days=2)
    make_event("Talk", language="en", kind=Event.Kind.LECTURE, days=3)

    items = panel_items(home_of(mic.organisers.get()))

    links = {label: link for label, link, _count in items}
    assert links["Draft mic"] == f"/en/events/manage/{draft.slug}/"
    assert links["Check-in: Poetry mic"] == f"/en/events/manage/{mic.slug}/#checkin-heading"
    assert links["Live queue: Poetry mic"] == f"/en/events/{mic.slug}/live/"
    assert not any(label.startswith(("Check-in: Draft", "Live queue: Draft")) for label in links)
    # Both lead where they say: the check-in section of the event's page, the live page.
    client = signed_in(mic.organisers.get())
    assert soup(client.get(f"/en/events/manage/{mic.slug}/")).select_one("#checkin-heading")
    assert client.get(f"/en/events/{mic.slug}/live/").status_code == 200


def test_a_count_only_event_shows_its_count_but_no_check_in_and_no_rsvp_event_no_count(
    make_event,
):
    protest = make_event(
        "March", language="en", kind=Event.Kind.PROTEST, rsvp_mode=Event.RSVP.COUNT, days=1
    )
    services.count_me_in(protest, client_address="192.0.2.1", already_counted=False)
    services.count_me_in(protest, client_address="192.0.2.2", already_counted=False)
    film = make_event(
        "Film night", language="en", kind=Event.Kind.FILM, rsvp_mode=Event.RSVP.NONE, days=2
    )

    items = panel_items(home_of(protest.organisers.get()))

    assert ("March", f"/en/events/manage/{protest.slug}/", "2") in items
    assert ("Film night", f"/en/events/manage/{film.slug}/", None) in items
    # The next published event takes no names: there is nobody to check in, nor a queue.
    assert not any(label.startswith(("Check-in", "Live queue")) for label, _l, _c in items)


def test_an_event_is_named_in_the_language_of_the_page_else_in_its_own(make_event, organiser):
    make_event("Вече поезије", language="sr", kind=Event.Kind.LECTURE, days=1)
    both = make_event("Књижевно вече", language="sr", kind=Event.Kind.LECTURE, days=2)
    services.set_text(both, actor=organiser, language="en", title="Literary evening")

    english = [label for label, _link, _count in panel_items(home_of(organiser, "en"))]
    latin = [label for label, _link, _count in panel_items(home_of(organiser, "sr-latn"))]

    assert english[:2] == ["Вече поезије", "Literary evening"]  # no English text: the original
    assert latin[:2] == ["Veče poezije", "Književno veče"]


def test_an_organiser_sees_only_the_events_they_organise(make_event):
    make_event("Someone else's", language="en", days=1)
    other = account_services.create_account(
        email="o2@example.org", pseudonym="Other", password=None, roles=[roles.ORGANISER]
    )
    labels = [label for label, _link, _count in panel_items(home_of(other))]
    assert "Someone else's" not in labels


@pytest.mark.parametrize("who", [roles.MEMBER, roles.VOLUNTEER, roles.EDITOR, roles.ADMIN])
def test_people_who_do_not_organise_events_get_no_organiser_panel(personas, make_event, who):
    make_event("Open mic", language="en", days=1)
    user = personas[who].user
    assert events_home.panel(user) is None
    assert home_of(user).select_one(f"section#{KEY}") is None


def test_the_organiser_panel_takes_the_same_queries_however_many_events(make_event, organiser):
    def queries() -> int:
        fresh = User.objects.get(pk=organiser.pk)  # permissions are looked up each time
        with CaptureQueriesContext(connection) as captured:
            found = events_home.panel(fresh)
        assert found is not None
        return len(captured)

    def add(count: int, start: int) -> None:
        for day in range(start, start + count):
            event = make_event(f"Mic {day}", language="en", days=day)
            services.rsvp(event, name="Ana")

    add(1, start=1)
    few = queries()
    add(6, start=2)
    assert queries() == few


def test_the_home_page_shows_the_next_public_events_and_is_refreshed_when_one_is_published(
    client, make_event, django_capture_on_commit_callbacks
):
    make_event("Први догађај", days=2)
    make_event("Нацрт", days=1, publish=False)
    make_event("Само за чланове", days=1, visibility=Event.Visibility.MEMBERS)
    first = client.get("/sr/")
    section = soup(first).select_one("#home-events")
    titles = [h.get_text(strip=True) for h in section.select(".card h2")]
    assert titles == ["Први догађај"]
    assert section.select_one('a[href="/sr/events/"]') is not None
    assert client.get("/sr/")["X-Krov-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        make_event("Други догађај", days=1)
    titles = [
        h.get_text(strip=True) for h in soup(client.get("/sr/")).select("#home-events .card h2")
    ]
    assert titles == ["Други догађај", "Први догађај"]

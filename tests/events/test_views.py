"""Event pages through HTTP: list, detail, RSVP, live queue, feeds, organiser pages."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from krov.events import services
from krov.events.models import Event, Rsvp
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db


def test_list_shows_published_public_events_and_filters_by_kind(make_event):
    make_event("Отворени микрофон")
    make_event("Protest for peace", language="en", kind=Event.Kind.PROTEST)
    make_event("Draft", language="en", publish=False)
    make_event("Members", language="en", visibility=Event.Visibility.MEMBERS)
    page = soup(Client().get("/sr-latn/events/"))
    titles = [a.get_text() for a in page.select("li.event h2 a")]
    assert titles == ["Otvoreni mikrofon", "Protest for peace"]
    protests = soup(Client().get("/en/events/?kind=protest"))
    assert [a.get_text() for a in protests.select("li.event h2 a")] == ["Protest for peace"]


@pytest.mark.parametrize(
    "query",
    [
        "kind=rave",
        "start=yesterday",
        "end=2026-13-45",
        "language=tlh",
        "page=-1",
        "start=0001-01-01",
        "end=9999-12-31",
    ],
)
def test_malformed_filters_get_a_clear_answer_not_a_500(make_event, query):
    make_event()
    response = Client().get(f"/en/events/?{query}")
    assert response.status_code in {200, 400}
    if response.status_code == 400:
        assert soup(response).select_one("p.error[role=alert]")


def test_detail_has_json_ld_opengraph_and_a_calendar_link(make_event):
    event = make_event()
    response = Client().get(f"/sr/events/{event.slug}/")
    page = soup(response)
    data = json.loads(page.select_one('script[type="application/ld+json"]').string)
    assert data["@type"] == "Event" and data["name"] == "Отворени микрофон"
    # The place as the page shows it: a Serbian venue in the page's script.
    assert data["location"]["name"] == "Квака 22"
    assert page.select_one('meta[property="og:title"]')["content"] == "Отворени микрофон"
    assert page.select_one(f'a[href="/events/{event.slug}.ics"]')
    assert page.select_one(".description strong").get_text() == "Добродошли"


def test_markdown_is_sanitised(make_event, organiser):
    event = make_event()
    services.set_text(
        event,
        actor=organiser,
        language="en",
        title="X",
        description="<script>alert(1)</script> [a](javascript:alert(1)) **ok**",
    )
    html = Client().get(f"/en/events/{event.slug}/").content.decode()
    assert "<script>alert" not in html and "javascript:" not in html
    assert "<strong>ok</strong>" in html


def test_a_missing_translation_shows_the_original_with_a_note(make_event):
    event = make_event("Lecture", language="en", kind=Event.Kind.LECTURE)
    page = soup(Client().get(f"/de/events/{event.slug}/"))
    assert page.h1.get_text() == "Lecture"
    assert page.select_one("p.notice")


def test_drafts_and_members_only_events_are_hidden_from_strangers(make_event, personas, organiser):
    draft = make_event("Draft", language="en", publish=False)
    members = make_event("Members", language="en", visibility=Event.Visibility.MEMBERS)
    assert Client().get(f"/en/events/{draft.slug}/").status_code == 404
    assert Client().get(f"/en/events/{members.slug}/").status_code == 404
    assert signed_in(personas["member"].user).get(f"/en/events/{members.slug}/").status_code == 200
    assert signed_in(organiser).get(f"/en/events/{draft.slug}/").status_code == 200


def test_rsvp_over_http_gives_a_qr_and_a_cancel_link(make_event):
    event = make_event(capacity=1, kind=Event.Kind.LECTURE)
    client = Client()
    response = client.post(f"/en/events/{event.slug}/rsvp/", {"name": "Ana", "contact": ""})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page["Cache-Control"] == "no-store"
    assert soup(page).select_one("figure.qr svg")
    second = Client().post(f"/en/events/{event.slug}/rsvp/", {"name": "Boris"})
    waiting = soup(Client().get(second["Location"]))
    assert waiting.select_one(".rsvp-status").get_text() == "On the waiting list"
    client.post(response["Location"] + "cancel/")
    statuses = sorted(r.status for r in Rsvp.objects.all())
    assert statuses == ["cancelled", "going"]


def test_bad_rsvps_get_clear_answers(make_event, organiser):
    event = make_event()
    assert Client().post(f"/en/events/{event.slug}/rsvp/", {"name": ""}).status_code == 400
    services.cancel(event, actor=organiser)
    assert Client().post(f"/en/events/{event.slug}/rsvp/", {"name": "Vera"}).status_code == 409
    assert Client().get("/en/events/rsvp/not-a-token/").status_code == 404


def test_ics_feeds_parse_as_rfc_5545_with_time_zones(make_event):
    event = make_event()
    make_event("Друго", days=10)
    feed = Calendar.from_ical(Client().get("/events/feed.ics").content)
    events = feed.walk("VEVENT")
    assert len(events) == 2
    assert feed.walk("VTIMEZONE")[0]["TZID"] == "Europe/Belgrade"
    single = Calendar.from_ical(Client().get(f"/events/{event.slug}.ics").content)
    (vevent,) = single.walk("VEVENT")
    assert vevent["SUMMARY"] == "Отворени микрофон"
    assert vevent.decoded("DTSTART") == event.starts_at
    assert str(vevent["DTSTART"].params["TZID"]) == "Europe/Belgrade"


def test_upcoming_public_events_are_in_the_sitemap_in_each_written_language(make_event, settings):
    from xml.etree import ElementTree

    upcoming = make_event("Отворени микрофон")
    hidden = [
        make_event("Draft", language="en", publish=False),
        make_event("Members", language="en", visibility=Event.Visibility.MEMBERS),
        make_event("Past", language="en", days=-3),
    ]
    tree = ElementTree.fromstring(Client().get("/sitemap.xml").content)  # noqa: S314
    locs = [loc.text for loc in tree.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert sorted(loc for loc in locs if "/events/" in loc) == [
        f"{settings.KROV_SITE_URL}/sr-latn/events/{upcoming.slug}/",
        f"{settings.KROV_SITE_URL}/sr/events/{upcoming.slug}/",
    ]
    assert not [loc for loc in locs for event in hidden if event.slug in loc]


def test_live_state_answers_304_while_the_queue_is_unchanged(
    make_event, organiser, django_capture_on_commit_callbacks
):
    event = make_event()
    slot = services.sign_up(event, stage_name="Lira", person_key="p1")
    client = Client()
    first = client.get(f"/en/events/{event.slug}/live/state/")
    etag = first["ETag"]
    assert first.status_code == 200
    with CaptureQueriesContext(connection) as captured:
        again = client.get(f"/en/events/{event.slug}/live/state/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert len(captured) == 0  # the version comes from the cache
    with django_capture_on_commit_callbacks(execute=True):
        services.set_slot_status(slot, actor=organiser, status="on_stage")
    changed = client.get(f"/en/events/{event.slug}/live/state/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert soup(changed).select_one(".now-on-stage").get_text().startswith("Lira")


def test_performer_sign_up_is_one_per_browser(make_event):
    event = make_event()
    client = Client()
    client.post(f"/en/events/{event.slug}/perform/", {"stage_name": "Lira", "minutes": "5"})
    client.post(f"/en/events/{event.slug}/perform/", {"stage_name": "Lira 2", "minutes": "5"})
    assert event.slots.count() == 1
    Client().post(f"/en/events/{event.slug}/perform/", {"stage_name": "Bard", "minutes": "5"})
    assert event.slots.count() == 2


def test_organiser_checks_in_by_code_and_a_second_time_says_when(make_event, organiser):
    event = make_event()
    result = services.rsvp(event, name="Ana")
    client = signed_in(organiser)
    code = services.checkin_code(result.rsvp)
    page = client.post(f"/en/events/manage/{event.slug}/checkin/", {"code": code}, follow=True)
    assert "Welcome, Ana!" in soup(page).select_one(".messages").get_text()
    page = client.post(f"/en/events/manage/{event.slug}/checkin/", {"code": code}, follow=True)
    assert "already checked in at" in soup(page).select_one(".messages").get_text()
    page = client.post(f"/en/events/manage/{event.slug}/checkin/", {"code": "junk"}, follow=True)
    assert "not a valid code" in soup(page).select_one(".messages").get_text()


def test_door_counter_over_htmx(make_event, organiser):
    event = make_event(rsvp_mode=Event.RSVP.NONE)
    client = signed_in(organiser)
    url = f"/en/events/manage/{event.slug}/door/"
    for _ in range(3):
        response = client.post(url, {"delta": "1"}, HTTP_HX_REQUEST="true")
    client.post(url, {"delta": "-1"}, HTTP_HX_REQUEST="true")
    response = client.post(url, {"delta": "1"}, HTTP_HX_REQUEST="true")
    assert soup(response).select_one("output.door-count").get_text() == "3"


def test_organiser_creates_an_event_in_cyrillic_and_sees_it_in_latin(organiser, venue):
    client = signed_in(organiser)
    response = client.post(
        "/en/events/manage/",
        {
            "title": "Вече поезије",
            "language": "sr",
            "kind": "open_mic",
            "starts_at": "2027-03-05T19:00",
            "ends_at": "2027-03-05T22:00",
            "venue": venue.pk,
            "rsvp_mode": "open",
            "visibility": "public",
        },
    )
    assert response.status_code == 302
    event = Event.objects.get()
    client.post(f"/en/events/manage/{event.slug}/publish/")
    page = soup(Client().get(f"/sr-latn/events/{event.slug}/"))
    assert page.h1.get_text() == "Veče poezije"
    bad = client.post(
        "/en/events/manage/",
        {
            "title": "X",
            "language": "en",
            "kind": "other",
            "starts_at": "2027-03-05T19:00",
            "ends_at": "2027-03-05T18:00",
            "rsvp_mode": "open",
            "visibility": "public",
            "capacity": "0",
        },
    )
    assert bad.status_code == 400
    assert len(soup(bad).select(".has-error .error")) == 2


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("member", 403), ("volunteer", 403), ("editor", 403), ("organiser", 200)],
)
def test_manage_pages_are_for_organisers(personas, who, expected):
    client = Client() if who == "anonymous" else signed_in(personas[who].user)
    assert client.get("/en/events/manage/").status_code == expected


def test_another_organisers_event_is_not_found(make_event, personas):
    from krov.accounts import services as account_services

    event = make_event()
    other = account_services.create_account(
        email="o2@example.org", pseudonym="Other", password=None, roles=["organiser"]
    )
    client = signed_in(other)
    assert client.get(f"/en/events/manage/{event.slug}/").status_code == 404
    assert client.post(f"/en/events/manage/{event.slug}/door/", {"delta": "1"}).status_code == 404


def test_list_and_detail_queries_do_not_grow_with_events(make_event):
    event = make_event()
    client = Client()

    def count(url):
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = (count("/en/events/"), count(f"/en/events/{event.slug}/"))
    for index in range(25):
        make_event(f"Event {index}", language="en", days=index + 1)
    assert (count("/en/events/"), count(f"/en/events/{event.slug}/")) == few


def test_anonymous_list_is_cached_and_invalidated_on_change(
    make_event, organiser, django_capture_on_commit_callbacks
):
    event = make_event()
    client = Client()
    client.get("/en/events/")
    assert client.get("/en/events/")["X-Krov-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        services.set_text(event, actor=organiser, language="en", title="Renamed")
    response = client.get("/en/events/")
    assert response["X-Krov-Cache"] != "hit"
    assert "Renamed" in response.content.decode()


def test_unknown_manage_action_is_404(make_event, organiser):
    event = make_event()
    assert signed_in(organiser).post(f"/en/events/manage/{event.slug}/explode/").status_code == 404


def test_a_keyerror_inside_a_manage_action_is_a_bug_not_a_404(make_event, organiser, monkeypatch):
    event = make_event(publish=False)

    def broken(*args, **kwargs):
        return {}["missing"]

    monkeypatch.setattr(services, "publish", broken)
    with pytest.raises(KeyError, match="missing"):
        signed_in(organiser).post(f"/en/events/manage/{event.slug}/publish/")


def test_ends_before_start_is_refused_when_editing_too(make_event, organiser):
    event = make_event()
    with pytest.raises(services.EventError):
        services.update_event(event, actor=organiser, ends_at=event.starts_at - timedelta(hours=1))


def test_the_detail_page_is_cached_for_visitors_and_the_form_comes_separately(make_event):
    event = make_event(capacity=5, kind=Event.Kind.LECTURE)
    client = Client()
    client.get(f"/en/events/{event.slug}/")
    cached = client.get(f"/en/events/{event.slug}/")
    assert cached["X-Krov-Cache"] == "hit"
    assert "csrfmiddlewaretoken" not in cached.content.decode()
    section = soup(cached).select_one("section#rsvp")
    assert section["hx-get"] == f"/en/events/{event.slug}/rsvp/"
    assert section.select_one(f'a[href="/en/events/{event.slug}/rsvp/"]')  # without JS
    partial = client.get(f"/en/events/{event.slug}/rsvp/", HTTP_HX_REQUEST="true")
    assert soup(partial).select_one("form.rsvp-form input[name=csrfmiddlewaretoken]")
    full = client.get(f"/en/events/{event.slug}/rsvp/")
    assert soup(full).select_one("html") and soup(full).select_one("form.rsvp-form")


def test_organiser_changes_the_settings_and_bad_times_are_refused(make_event, organiser):
    event = make_event()
    client = signed_in(organiser)
    data = {
        "kind": "open_mic",
        "starts_at": "2027-04-01T19:00",
        "ends_at": "2027-04-01T22:00",
        "address": "",
        "capacity": "12",
        "rsvp_mode": "required",
        "visibility": "public",
        "queue_open": "on",
        "queue_max_slots": "8",
    }
    assert client.post(f"/en/events/manage/{event.slug}/settings/", data).status_code == 302
    event.refresh_from_db()
    assert (event.capacity, event.rsvp_mode, event.queue_max_slots) == (12, "required", 8)
    bad = {**data, "ends_at": "2027-04-01T18:00"}
    page = client.post(f"/en/events/manage/{event.slug}/settings/", bad, follow=True)
    assert "end must be after" in soup(page).select_one(".messages").get_text()
    event.refresh_from_db()
    assert timezone.localtime(event.ends_at).hour == 22


def test_hreflang_lists_only_the_languages_the_event_is_written_in(make_event):
    event = make_event("Отворени микрофон")
    page = soup(Client().get(f"/en/events/{event.slug}/"))
    hreflangs = {link["hreflang"] for link in page.select('link[rel="alternate"][hreflang]')}
    assert hreflangs == {"sr", "sr-latn", "x-default"}
    switcher = {a["hreflang"] for a in page.select(".language-switcher a")}
    assert len(switcher) == 6  # the switcher still offers every interface language


def test_rsvp_with_an_email_answers_the_same_whether_or_not_it_is_on_the_list(make_event):
    event = make_event()
    url = f"/en/events/{event.slug}/rsvp/"
    new = Client().post(url, {"name": "Ana", "contact": "ana@example.org"})
    known = Client().post(url, {"name": "Other", "contact": "ana@example.org"})
    assert new.status_code == known.status_code == 200
    assert soup(new).select_one("main").get_text() == soup(known).select_one("main").get_text()
    htmx = Client().post(url, {"name": "X", "contact": "ana@example.org"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and b"<html" not in htmx.content


def test_many_rsvps_from_one_connection_get_a_429_with_a_message(make_event, settings):
    event = make_event()
    url = f"/en/events/{event.slug}/rsvp/"
    client = Client(REMOTE_ADDR="203.0.113.50")
    answers = [client.post(url, {"name": f"Person {i}"}).status_code for i in range(21)]
    assert answers[:20] == [302] * 20
    assert answers[20] == 429
    assert "try again later" in client.post(url, {"name": "Again"}).content.decode()


def test_the_mailed_link_confirms_with_a_button_not_by_being_opened(
    make_event, django_capture_on_commit_callbacks
):
    import re

    from django.core import mail

    event = make_event()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit
        Client().post(
            f"/en/events/{event.slug}/rsvp/", {"name": "Ana", "contact": "ana@example.org"}
        )
    link = re.search(r"https?://\S+/events/rsvp/\S+/", mail.outbox[-1].body).group(0)
    path = "/" + link.split("/", 3)[3]  # the site's address in front, the path after
    page = soup(Client().get(path))  # a mail scanner opening the link confirms nothing
    assert page.select_one(".rsvp-status").get_text() == "Not confirmed yet"
    event.refresh_from_db()
    assert event.going_count == 0
    Client().post(path + "confirm/")
    assert soup(Client().get(path)).select_one(".rsvp-status").get_text() == "Going"
    event.refresh_from_db()
    assert event.going_count == 1


def test_cancelling_an_event_asks_i_am_sure_first(make_event, organiser):
    event = make_event()
    client = signed_in(organiser)
    page = soup(client.get(f"/en/events/manage/{event.slug}/"))
    assert page.select_one("form[action$='/cancel/'] input[name=confirm][required]")
    response = client.post(f"/en/events/manage/{event.slug}/cancel/", follow=True)
    assert "I am sure" in soup(response).select_one(".messages").get_text()
    event.refresh_from_db()
    assert event.status != Event.Status.CANCELLED
    client.post(f"/en/events/manage/{event.slug}/cancel/", {"confirm": "yes"})
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED


def test_an_organiser_undoes_a_cancellation_from_the_next_page(make_event, organiser):
    event = make_event()
    client = signed_in(organiser)
    response = client.post(
        f"/en/events/manage/{event.slug}/cancel/", {"confirm": "yes"}, follow=True
    )
    page = soup(response)
    assert "unless you undo it" in page.select_one(".messages").get_text()
    form = page.select_one("form.undo")
    assert form is not None
    fields = {i["name"]: i.get("value", "") for i in form.select("input[name]")}
    undone = client.post(form["action"], fields, follow=True)
    assert "nobody was told" in soup(undone).select_one(".messages").get_text()
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED

"""Events in Chromium: RSVP with waiting-list promotion, and the live queue following the
organiser's clicks without a reload."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from krov.accounts import roles
from krov.events import services
from krov.events.models import Event, Rsvp
from tests.browser.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


def in_thread(func):
    """Run ORM work beside Playwright's event loop, as another request would."""
    result = {}

    def run():
        result["value"] = func()
        connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=30)
    return result.get("value")


def make(organiser, *, kind, capacity=None):
    starts = timezone.now() + timedelta(days=2)
    event = services.create_event(
        actor=organiser,
        title="Open mic" if kind == "open_mic" else "Lecture",
        language="en",
        kind=kind,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        capacity=capacity,
        address="Kraljice Natalije 11",
    )
    services.publish(event, actor=organiser)
    return event


@pytest.mark.django_db(transaction=True)
def test_rsvp_waiting_list_and_promotion(live_server, browser_page, new_browser_page, personas):
    organiser = personas[roles.ORGANISER].user
    event = make(organiser, kind=Event.Kind.LECTURE, capacity=1)
    first = browser_page
    first.goto(f"{live_server.url}/en/events/{event.slug}/")
    first.fill("input[name=name]", "Ana")
    first.click("form.rsvp-form button[type=submit]")
    first.wait_for_url("**/events/rsvp/**")
    assert first.locator(".rsvp-status").inner_text() == "Going"
    assert first.locator("figure.qr svg").count() == 1

    second = new_browser_page()
    second.goto(f"{live_server.url}/en/events/{event.slug}/")
    assert "waiting list" in second.locator("section .notice").inner_text()
    second.fill("input[name=name]", "Boris")
    second.click("form.rsvp-form button[type=submit]")
    second.wait_for_url("**/events/rsvp/**")
    assert second.locator(".rsvp-status").inner_text() == "On the waiting list"

    first.click("button:has-text('Cancel my RSVP')")
    expect(first.locator(".rsvp-status")).to_have_text("Cancelled")
    second.reload()
    assert second.locator(".rsvp-status").inner_text() == "Going"
    assert second.locator("figure.qr svg").count() == 1
    statuses = in_thread(lambda: sorted(Rsvp.objects.values_list("status", flat=True)))
    assert statuses == ["cancelled", "going"]


@pytest.mark.django_db(transaction=True)
def test_the_live_page_follows_the_organiser(live_server, browser_page, new_browser_page, personas):
    organiser = personas[roles.ORGANISER].user
    event = make(organiser, kind=Event.Kind.OPEN_MIC)
    wall = browser_page
    wall.goto(f"{live_server.url}/en/events/{event.slug}/live/")
    wall.fill("input[name=stage_name]", "Lira")
    wall.fill("input[name=act]", "songs")
    wall.click("form.stack button[type=submit]")
    wall.wait_for_url("**/live/")
    wall.locator("ol.next", has_text="Lira").wait_for()
    in_thread(lambda: services.sign_up(event, stage_name="Bard", actor=organiser))

    desk = new_browser_page(organiser)
    desk.goto(f"{live_server.url}/en/events/manage/{event.slug}/")
    desk.locator("li.slot", has_text="Bard").locator("button[value=up]").click()
    desk.locator("ol.queue-admin li.slot").first.filter(has_text="Bard").wait_for()
    desk.locator("li.slot", has_text="Bard").locator("button[value=on_stage]").click()
    desk.locator("li.slot-on_stage", has_text="Bard").wait_for()

    # The wall was not reloaded: htmx polling brings the change.
    wall.locator(".now-on-stage", has_text="Bard").wait_for(timeout=15_000)
    assert "Lira" in wall.locator("ol.next").inner_text()
    desk.locator("li.slot", has_text="Lira").locator("button[value=on_stage]").click()
    wall.locator(".now-on-stage", has_text="Lira").wait_for(timeout=15_000)
    assert wall.csp_violations == [] and desk.csp_violations == []


@pytest.mark.django_db(transaction=True)
def test_cards_have_no_empty_band_above_their_title_and_the_page_ends_above_the_footer(
    live_server, browser_page, personas
):
    organiser = personas[roles.ORGANISER].user
    make(organiser, kind=Event.Kind.LECTURE)
    make(organiser, kind=Event.Kind.OPEN_MIC)
    page = browser_page
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/en/events/")
        expect(page.locator(".card")).to_have_count(2)
        bands = page.evaluate(
            """() => [...document.querySelectorAll('.card')].map(card => {
                const first = card.firstElementChild.getBoundingClientRect().top;
                const top = card.getBoundingClientRect().top + card.clientTop;
                return first - top - parseFloat(getComputedStyle(card).paddingTop);
            })"""
        )
        assert all(abs(band) <= 1 for band in bands), (width, bands)
        room = page.evaluate(
            """() => {
                const main = document.querySelector('main');
                const last = main.lastElementChild.getBoundingClientRect().bottom;
                return document.querySelector('footer').getBoundingClientRect().top - last;
            }"""
        )
        assert room >= 16, (width, room)

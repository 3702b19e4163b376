"""Wall mode of the open-mic live page: no site chrome, the act on stage in huge type, the
next three, a QR code to sign up, and it follows the queue by itself."""

from __future__ import annotations

import pytest
from django.test import Client

from krov.events import services
from krov.events.models import Event, Slot
from tests.helpers import soup

pytestmark = pytest.mark.django_db


def _queue(event, organiser, names):
    slots = [services.sign_up(event, stage_name=name, actor=organiser) for name in names]
    services.set_slot_status(slots[0], actor=organiser, status=Slot.Status.ON_STAGE)
    return slots


def test_wall_shows_the_act_on_stage_and_the_next_three_without_site_chrome(make_event, organiser):
    event = make_event()
    _queue(event, organiser, ["Lira", "Bard", "Vox", "Echo", "Fifth"])
    response = Client().get(f"/en/events/{event.slug}/live/wall/")
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one(".now-on-stage").get_text(strip=True) == "Lira"
    assert [li.get_text(strip=True) for li in page.select("ol.next li")] == [
        "Bard",
        "Vox",
        "Echo",
    ]
    assert not page.select("header, footer, nav, .site-header, .site-footer")
    # It follows the queue by itself: htmx polls the live state (no inline script).
    state = page.select_one("#live-state")
    assert state["hx-get"] == f"/en/events/{event.slug}/live/state/"
    assert "every" in state["hx-trigger"]
    assert all(script.get("src") for script in page.select("script"))
    assert page.select_one("noscript meta[http-equiv=refresh]")


def test_wall_has_a_qr_code_to_sign_up_while_sign_up_is_open(make_event, organiser):
    event = make_event()
    page = soup(Client().get(f"/en/events/{event.slug}/live/wall/"))
    signup = page.select_one(".wall-signup")
    assert signup.select_one("svg")
    assert signup.select_one(".wall-url").get_text().endswith(f"/en/events/{event.slug}/live/")
    services.update_event(event, actor=organiser, queue_open=False)
    page = soup(Client().get(f"/en/events/{event.slug}/live/wall/"))
    assert not page.select(".wall-signup")


def test_wall_is_only_for_open_mic_events(make_event):
    lecture = make_event("Lecture", language="en", kind=Event.Kind.LECTURE)
    assert Client().get(f"/en/events/{lecture.slug}/live/wall/").status_code == 404
    draft = make_event("Draft mic", language="en", publish=False)
    assert Client().get(f"/en/events/{draft.slug}/live/wall/").status_code == 404


def test_organisers_page_and_live_page_link_to_the_wall(make_event, organiser):
    from tests.helpers import signed_in

    event = make_event()
    wall = f"/en/events/{event.slug}/live/wall/"
    manage = soup(signed_in(organiser).get(f"/en/events/manage/{event.slug}/"))
    assert manage.select_one(f'a[href="{wall}"]')
    live = soup(Client().get(f"/en/events/{event.slug}/live/"))
    assert live.select_one(f'a[href="{wall}"]')

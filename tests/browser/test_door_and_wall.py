"""The door and the wall in Chromium: a typed short code checks in, the door counter follows
every phone's clicks, the wall follows the queue and offers a QR code to sign up."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from krov.accounts import roles
from krov.events import services
from krov.events.models import Event, Slot
from tests.browser.conftest import CHROMIUM
from tests.browser.test_events_flow import in_thread

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


def make(organiser, *, kind):
    starts = timezone.now() + timedelta(days=2)
    event = services.create_event(
        actor=organiser,
        title="Door night",
        language="en",
        kind=kind,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        address="Kraljice Natalije 11",
    )
    services.publish(event, actor=organiser)
    return event


@pytest.mark.django_db(transaction=True)
def test_a_code_read_out_and_typed_in_lower_case_checks_in(live_server, new_browser_page, personas):
    organiser = personas[roles.ORGANISER].user
    event = make(organiser, kind=Event.Kind.LECTURE)
    rsvp = in_thread(lambda: services.rsvp(event, name="Ana").rsvp)
    code = rsvp.checkin_code
    phone = new_browser_page(organiser)
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(f"{live_server.url}/en/events/manage/{event.slug}/")
    phone.fill("#checkin-code", f"{code[:4].lower()} {code[4:].lower()}")
    phone.locator("form.checkin-form button[type=submit]").first.click()
    expect(phone.locator(".messages")).to_have_text("Welcome, Ana!")
    phone.fill("#checkin-code", "ACEF-GHJK" if code != "ACEFGHJK" else "MNPR-TUVW")
    phone.locator("form.checkin-form button[type=submit]").first.click()
    expect(phone.locator(".messages")).to_contain_text("check it letter by letter")
    assert phone.csp_violations == []


@pytest.mark.django_db(transaction=True)
def test_the_door_counter_follows_every_phone(live_server, new_browser_page, personas):
    organiser = personas[roles.ORGANISER].user
    event = make(organiser, kind=Event.Kind.LECTURE)
    front, back = new_browser_page(organiser), new_browser_page(organiser)
    for phone in (front, back):
        phone.goto(f"{live_server.url}/en/events/manage/{event.slug}/")
        expect(phone.locator("output.door-count")).to_have_text("0")
    for _ in range(3):
        front.locator("#door button[value='1']").click()
    expect(front.locator("output.door-count")).to_have_text("3")
    # The other phone was not touched: its poll brings the number within seconds.
    expect(back.locator("output.door-count")).to_have_text("3", timeout=10_000)
    back.locator("#door button[value='-1']").click()
    expect(front.locator("output.door-count")).to_have_text("2", timeout=10_000)
    assert front.csp_violations == [] and back.csp_violations == []


@pytest.mark.django_db(transaction=True)
def test_the_wall_follows_the_queue_by_itself(live_server, browser_page, personas):
    organiser = personas[roles.ORGANISER].user
    event = make(organiser, kind=Event.Kind.OPEN_MIC)
    lira = in_thread(lambda: services.sign_up(event, stage_name="Lira", actor=organiser))
    wall = browser_page
    wall.set_viewport_size({"width": 1920, "height": 1080})
    wall.goto(f"{live_server.url}/en/events/{event.slug}/live/wall/")
    expect(wall.locator("ol.next")).to_contain_text("Lira")
    assert wall.locator("header, footer, nav").count() == 0
    assert wall.locator(".wall-signup svg").is_visible()

    in_thread(lambda: services.set_slot_status(lira, actor=organiser, status=Slot.Status.ON_STAGE))
    expect(wall.locator(".now-on-stage")).to_have_text("Lira", timeout=15_000)
    # The act on stage dominates: its type is far larger than the next acts'.
    in_thread(lambda: services.sign_up(event, stage_name="Bard", actor=organiser))
    expect(wall.locator("ol.next")).to_contain_text("Bard", timeout=15_000)
    on_stage = wall.locator(".now-on-stage").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    following = wall.locator("ol.next li").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    assert on_stage >= 2 * following
    assert wall.csp_violations == []


# A camera and a QR reader that sees the attendee's code: the page cannot tell them from real.
FAKE_CAMERA = """
window.BarcodeDetector = class {
  detect() { return Promise.resolve([{ rawValue: window.__code }]); }
};
const fakeStream = { getTracks: () => [{ stop() {} }] };
Object.defineProperty(navigator, "mediaDevices", {
  value: { getUserMedia: () => Promise.resolve(fakeStream) },
});
HTMLMediaElement.prototype.play = function () { return Promise.resolve(); };
Object.defineProperty(HTMLMediaElement.prototype, "srcObject", {
  set(v) {}, get() { return null; },
});
"""


@pytest.mark.django_db(transaction=True)
def test_a_scanned_qr_code_checks_in_where_the_browser_has_a_camera_reader(
    live_server, new_browser_page, personas
):
    organiser = personas[roles.ORGANISER].user
    event = make(organiser, kind=Event.Kind.LECTURE)
    code = in_thread(lambda: services.rsvp(event, name="Ana").rsvp.checkin_code)
    manage = f"{live_server.url}/en/events/manage/{event.slug}/"

    without = new_browser_page(organiser)
    without.add_init_script("delete window.BarcodeDetector;")
    without.goto(manage)
    expect(without.locator("#scan-button")).to_be_hidden()  # typing is the way here

    phone = new_browser_page(organiser)
    phone.add_init_script(FAKE_CAMERA.replace("window.__code", f"'{code}'"))
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(manage)
    scan = phone.locator("#scan-button")
    expect(scan).to_be_visible()
    scan.click()
    expect(phone.locator(".messages")).to_have_text("Welcome, Ana!")
    assert phone.csp_violations == []

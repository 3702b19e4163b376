"""A member's RSVPs on their home page, kept by their browser only: the server never links an
RSVP to an account, another account on the same browser never sees the list, a cancelled
RSVP leaves it, and the panic button clears it."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from krov.accounts import roles
from krov.events.models import Event, Rsvp
from tests.browser.conftest import CHROMIUM
from tests.browser.test_events_flow import in_thread, make

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


def rsvp(page, url: str, event: Event) -> str:
    page.goto(f"{url}/en/events/{event.slug}/")
    page.fill("input[name=name]", "Ana")
    page.click("form.rsvp-form button[type=submit]")
    page.wait_for_url("**/events/rsvp/**")
    return page.url


@pytest.mark.django_db(transaction=True)
def test_a_kept_rsvp_shows_on_the_members_home_in_this_browser_only(
    live_server, new_browser_page, personas
):
    organiser = personas[roles.ORGANISER].user
    member = personas[roles.MEMBER].user
    event = make(organiser, kind=Event.Kind.LECTURE)
    page = new_browser_page(member)
    rsvp_url = rsvp(page, live_server.url, event)

    page.click("button:has-text('Show on my home page')")
    expect(page.locator("[data-said]")).to_have_text("It is on your home page, in this browser.")
    expect(page.locator("button:has-text('Remove from my home page')")).to_be_visible()
    expect(page.locator("button:has-text('Show on my home page')")).to_be_hidden()

    page.goto(f"{live_server.url}/en/dashboard/")
    kept = page.locator("#device-rsvps")
    expect(kept).to_be_visible()
    link = kept.locator("ul a")
    expect(link).to_have_text("Lecture")
    assert link.get_attribute("href") == rsvp_url.removeprefix(live_server.url)
    # The server sent the section empty: what it lists came from this browser.
    html = in_thread(lambda: _dashboard_html(member))
    assert "Lecture" not in html
    # Nothing on the server ties the RSVP to the account.
    fields = {f.name for f in Rsvp._meta.get_fields()}
    assert not fields & {"user", "account", "member"}

    # Another account on this browser does not see it.
    other = personas[roles.EDITOR].user
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(other, backend="krov.accounts.backends.KrovBackend")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    page.goto(f"{live_server.url}/en/dashboard/")
    expect(page.locator("h1")).to_contain_text("Editor")
    expect(page.locator("#device-rsvps")).to_be_hidden()
    assert page.csp_violations == []


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_rsvp_leaves_the_home_list_and_panic_clears_it(
    live_server, new_browser_page, personas
):
    organiser = personas[roles.ORGANISER].user
    member = personas[roles.MEMBER].user
    first, second = make(organiser, kind=Event.Kind.LECTURE), make(organiser, kind="open_mic")
    page = new_browser_page(member)
    for event in (first, second):
        rsvp(page, live_server.url, event)
        page.click("button:has-text('Show on my home page')")
        expect(page.locator("button:has-text('Remove from my home page')")).to_be_visible()
    page.click("button:has-text('Cancel my RSVP')")
    expect(page.locator(".rsvp-status")).to_have_text("Cancelled")

    page.goto(f"{live_server.url}/en/dashboard/")
    expect(page.locator("#device-rsvps ul a")).to_have_text(["Lecture"])

    page.goto(f"{live_server.url}/en/account/panic/")
    page.click("button:has-text('Lock my account now')")
    page.wait_for_load_state()
    left = page.evaluate(
        "Object.keys(window.localStorage).filter(k => k.startsWith('krov.rsvps.'))"
    )
    assert left == []


def _dashboard_html(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user, backend="krov.accounts.backends.KrovBackend")
    return client.get("/en/dashboard/").content.decode()

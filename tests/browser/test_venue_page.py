"""The venues page on a 360 px phone in Chromium: the page never scrolls sideways, an
administrator types a venue's German name into its German fieldset and saves it, and a
refusal comes back beside the field with what was typed still there; no inline script or
style trips the Content-Security-Policy."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from krov.accounts import roles
from krov.events import services
from krov.events.models import Venue, VenueTranslation
from tests.browser.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


def _sideways(page) -> int:
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.django_db(transaction=True)
def test_an_administrator_translates_a_venue_on_a_360_px_phone(
    live_server, new_browser_page, personas
):
    admin = personas[roles.ADMIN].user
    hall = Venue.objects.create(
        name="Community hall with a rather long name that has to wrap on a phone",
        address="Main street 1",
        language="en",
    )
    services.set_venue_translation(hall, actor=admin, language="ru", name="Общественный зал")
    page = new_browser_page(admin)
    page.set_viewport_size({"width": 360, "height": 780})
    response = page.goto(f"{live_server.url}/en/events/venues/")
    assert response is not None and response.ok
    assert _sideways(page) <= 0

    card = page.locator(f"#venue-{hall.pk}")
    german = card.locator("fieldset", has=page.locator("legend", has_text="German"))
    german.get_by_label("Name").fill("Gemeindesaal")
    german.get_by_label("Address").fill("Hauptstraße 1")
    with page.expect_navigation():
        card.get_by_role("button", name="Save texts").click()
    expect(page).to_have_url(re.compile(rf"/en/events/venues/#venue-{hall.pk}$"))
    expect(page.locator(".messages")).to_contain_text("The venue's texts are saved.")
    saved = VenueTranslation.objects.get(venue=hall, language="de")
    assert (saved.name, saved.address) == ("Gemeindesaal", "Hauptstraße 1")

    # An address without a name: refused beside the name, the address still typed in.
    ukrainian = card.locator("fieldset", has=page.locator("legend", has_text="Ukrainian"))
    ukrainian.get_by_label("Address").fill("Головна вулиця 1")
    with page.expect_navigation():
        card.get_by_role("button", name="Save texts").click()
    ukrainian = page.locator(
        f"#venue-{hall.pk} fieldset", has=page.locator("legend", has_text="Ukrainian")
    )
    expect(ukrainian.locator(".has-error p.error")).to_have_text(
        "Please give the venue's name in this language."
    )
    expect(ukrainian.get_by_label("Address")).to_have_value("Головна вулиця 1")
    assert _sideways(page) <= 0
    assert not VenueTranslation.objects.filter(venue=hall, language="uk").exists()
    assert page.csp_violations == []

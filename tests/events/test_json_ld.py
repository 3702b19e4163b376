"""The event page's schema.org data (krov.events.views._json_ld) as search engines read it:
a PostalAddress for the place, the cover as `image`, and an organizer."""

from __future__ import annotations

import io
import json

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from krov.events import services
from tests.helpers import soup

pytestmark = pytest.mark.django_db

SITE = "https://krov.example.org"


@pytest.fixture(autouse=True)
def site(settings):
    settings.KROV_SITE_URL = SITE
    settings.KROV_COUNTRY = "RS"
    settings.KROV_CITY = "Belgrade"


def _json_ld(event) -> dict:
    page = soup(Client().get(f"/en/events/{event.slug}/"))
    (script,) = page.select('script[type="application/ld+json"]')
    return json.loads(script.string)


def test_the_place_has_a_postal_address(make_event):
    data = _json_ld(make_event())
    location = data["location"]
    assert location["@type"] == "Place"
    assert location["name"] == "Kvaka 22"
    assert location["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "Kraljice Natalije 11",
        "addressLocality": "Beograd",
        "addressCountry": "RS",
    }


def test_an_address_without_a_town_gets_the_communitys_city(make_event, organiser):
    event = make_event()
    services.update_event(event, actor=organiser, venue=None, address="Trg Republike")
    cache.clear()
    address = _json_ld(event)["location"]["address"]
    assert address["streetAddress"] == "Trg Republike"
    assert address["addressLocality"] == "Belgrade"


def test_the_cover_is_the_image_and_only_when_there_is_one(
    make_event, organiser, django_capture_on_commit_callbacks
):
    event = make_event()
    assert "image" not in _json_ld(event)
    picture = io.BytesIO()
    Image.new("RGB", (1200, 800), "orange").save(picture, "JPEG")
    with django_capture_on_commit_callbacks(execute=True):
        services.set_cover(
            event,
            actor=organiser,
            upload=SimpleUploadedFile("c.jpg", picture.getvalue(), "image/jpeg"),
        )
    event.refresh_from_db()
    data = _json_ld(event)
    assert data["image"] == [f"{SITE}/en/events/{event.slug}/cover.jpg"]
    cover = Client().get(f"/en/events/{event.slug}/cover.jpg")
    assert cover.status_code == 200
    cover.close()
    page = soup(Client().get(f"/en/events/{event.slug}/"))
    og_image = page.select_one('meta[property="og:image"]')["content"]
    assert og_image == data["image"][0]


def test_the_organizer_is_the_listed_organisation_else_the_site(make_event, personas):
    from krov.directory import services as directory

    event = make_event()
    assert _json_ld(event)["organizer"] == {
        "@type": "Organization",
        "name": "Krov",
        "url": SITE + "/",
    }
    org = directory.approve(
        directory.propose(
            actor=personas["member"].user,
            data={"name": "Kvaka", "language": "en", "kind": "centre", "city": "Beograd"},
        ),
        actor=personas["organiser"].user,
    )
    # No service links an event to its organisations yet (the admin does): set it here,
    # and forget the cached page as the admin's save would.
    org.events.add(event)
    cache.clear()
    assert _json_ld(event)["organizer"] == [
        {"@type": "Organization", "name": "Kvaka", "url": f"{SITE}/en/directory/{org.slug}/"}
    ]


def test_the_event_url_is_on_the_site_url_whatever_the_host(make_event, settings):
    settings.ALLOWED_HOSTS = ["*"]
    event = make_event()
    page = soup(Client().get(f"/en/events/{event.slug}/", HTTP_HOST="attacker.example"))
    data = json.loads(page.select_one('script[type="application/ld+json"]').string)
    assert data["url"] == f"{SITE}/en/events/{event.slug}/"

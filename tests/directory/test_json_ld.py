"""The organisation page's schema.org data (krov.directory.views._org_json_ld): a
PostalAddress and the organisation's own presences as `sameAs`."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from krov.directory import services
from tests.helpers import soup

pytestmark = pytest.mark.django_db


def _organisation(personas, **data):
    proposal = services.propose(
        actor=personas["member"].user,
        data={"name": "Pravna pomoć", "language": "sr-latn", "kind": "ngo", **data},
    )
    return services.approve(proposal, actor=personas["organiser"].user)


def _json_ld(org) -> dict:
    page = soup(Client().get(f"/en/directory/{org.slug}/"))
    (script,) = page.select('script[type="application/ld+json"]')
    return json.loads(script.string)


def test_the_address_is_a_postal_address_with_city_and_country(personas, settings):
    settings.KROV_COUNTRY = "RS"
    org = _organisation(personas, address="Cara Dušana 5", city="Novi Sad")
    assert _json_ld(org)["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "Cara Dušana 5",
        "addressLocality": "Novi Sad",
        "addressCountry": "RS",
    }


def test_same_as_lists_the_website_and_the_telegram_channel(personas):
    org = _organisation(
        personas, city="Beograd", website="https://example.org/pp", telegram="@pravna_pomoc"
    )
    data = _json_ld(org)
    assert data["url"] == "https://example.org/pp"
    assert data["sameAs"] == ["https://example.org/pp", "https://t.me/pravna_pomoc"]


def test_an_organisation_without_other_presences_has_no_same_as(personas):
    org = _organisation(personas, city="Beograd")
    data = _json_ld(org)
    assert "sameAs" not in data
    assert data["url"].endswith(f"/en/directory/{org.slug}/")

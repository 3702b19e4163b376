"""What search engines and link previews read from every public page (base.html,
partials/_page_meta.html, krov.core.context_processors): a canonical link and absolute
hreflang alternates on the configured site address, a description of its own, and
OpenGraph and Twitter tags."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from krov.accounts import roles
from krov.directory import services as directory
from krov.events import services as events
from krov.housing import services as housing
from krov.housing.models import District
from tests.helpers import soup

pytestmark = pytest.mark.django_db

SITE = "https://krov.example.org"


@pytest.fixture
def site(settings):
    settings.KROV_SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["*"]


@pytest.fixture
def content(personas, django_capture_on_commit_callbacks):
    """One public thing of each kind, made through the services (bulletins, which need a
    second editor, are checked in tests/bulletins)."""
    organiser = personas[roles.ORGANISER].user
    member = personas[roles.MEMBER].user
    with django_capture_on_commit_callbacks(execute=True):
        starts = timezone.now().replace(microsecond=0) + timedelta(days=3)
        event = events.create_event(
            actor=organiser,
            title="Open mic at the roof",
            language="en",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            address="Kraljice Natalije 11, Beograd",
            summary="Anyone may sing: sign up at the door.",
        )
        events.publish(event, actor=organiser)
        org = directory.approve(
            directory.propose(
                actor=member,
                data={
                    "name": "Legal help",
                    "language": "en",
                    "kind": "ngo",
                    "city": "Beograd",
                    "address": "Cara Dušana 5",
                    "description": "Free **legal advice** on residence permits.",
                    "areas": ["legal"],
                    "languages": ["ru", "en"],
                    "website": "https://example.org/legal",
                    "telegram": "@legal_help",
                },
            ),
            actor=organiser,
        )
        guide = directory.save_guide(
            None,
            actor=organiser,
            language="en",
            topic="arriving",
            title="Staying without a visa",
            body="## Days\n\nThirty days without a visa, then register.",
            verify_by=timezone.localdate() + timedelta(days=90),
        )
        listing = housing.post_listing(
            actor=member,
            data={
                "kind": "flat",
                "title": "Bright flat near Kalenić",
                "description": "Quiet courtyard, five minutes from the market.",
                "language": "en",
                "district": District.objects.get(slug="vracar"),
                "location_hint": "Kalenić",
                "size_m2": Decimal("50"),
                "rooms": Decimal("2"),
                "rent": Decimal("700"),
                "currency": "EUR",
                "deposit": Decimal("700"),
                "furnished": True,
                "pets": False,
                "available_from": timezone.localdate() + timedelta(days=10),
                "languages": ["en"],
            },
        )
    return {"event": event, "org": org, "guide": guide, "listing": listing}


def _public_paths(content) -> list[str]:
    return [
        "/en/",
        "/en/events/",
        f"/en/events/{content['event'].slug}/",
        "/en/bulletins/",
        "/en/directory/",
        f"/en/directory/{content['org'].slug}/",
        "/en/guides/",
        f"/en/guides/{content['guide'].slug}/",
        "/en/housing/",
        f"/en/housing/{content['listing'].pk}/",
        "/en/housing/rents/",
        "/en/housing/rents/check/",
        "/en/help/",
    ]


def _page(path: str, **headers):
    response = Client().get(path, **headers)
    assert response.status_code == 200, path
    return soup(response)


def test_every_public_page_names_its_canonical_address_on_the_site_url(site, content):
    for path in _public_paths(content):
        page = _page(path, HTTP_HOST="attacker.example")
        (canonical,) = page.select('link[rel="canonical"]')
        assert canonical["href"] == SITE + path, path
        assert "attacker.example" not in str(page.head), path


def test_a_later_page_of_a_list_is_its_own_canonical_address_but_filters_are_not(site, content):
    page = _page("/en/events/?page=2&kind=concert")
    assert page.select_one('link[rel="canonical"]')["href"] == SITE + "/en/events/?page=2"
    page = _page("/en/events/?kind=concert")
    assert page.select_one('link[rel="canonical"]')["href"] == SITE + "/en/events/"


def test_hreflang_alternates_are_absolute(site, content):
    for path in _public_paths(content):
        alternates = _page(path).select('link[rel="alternate"][hreflang]')
        assert alternates, path
        for link in alternates:
            if link["hreflang"] == "x-default":
                continue
            assert link["href"].startswith(SITE + "/" + link["hreflang"] + "/"), (path, link)


def test_every_page_names_its_language_neutral_address_as_x_default(site, content):
    """The address without a language sends each reader to their own (LocaleMiddleware)."""
    for path in _public_paths(content):
        (x_default,) = _page(path).select('link[rel="alternate"][hreflang="x-default"]')
        neutral = path.removeprefix("/en")
        assert x_default["href"] == SITE + neutral, path
        response = Client().get(neutral, HTTP_ACCEPT_LANGUAGE="uk")
        assert response.status_code == 302 and response["Location"].startswith("/uk/"), path


def test_every_public_page_has_a_description_of_its_own(site, content):
    descriptions = {}
    for path in _public_paths(content):
        (meta,) = _page(path).select('meta[name="description"]')
        assert meta["content"].strip(), path
        assert len(meta["content"]) <= 300, path
        descriptions[path] = meta["content"]
    listing = descriptions[f"/en/housing/{content['listing'].pk}/"]
    assert listing == "Quiet courtyard, five minutes from the market."
    org = descriptions[f"/en/directory/{content['org'].slug}/"]
    assert org == "Free legal advice on residence permits."  # Markdown's tags stripped
    # The lists and detail pages each say what they hold, not the site's one sentence.
    specific = [p for p in descriptions if p not in ("/en/", "/en/help/")]
    assert len({descriptions[p] for p in specific}) == len(specific)


@pytest.mark.parametrize("kind", ["home", "org", "guide", "listing", "event"])
def test_link_previews_on_home_organisation_guide_listing_and_event_pages(site, content, kind):
    path, title = {
        "home": ("/en/", "A roof for the community"),
        "org": (f"/en/directory/{content['org'].slug}/", "Legal help"),
        "guide": (f"/en/guides/{content['guide'].slug}/", "Staying without a visa"),
        "listing": (f"/en/housing/{content['listing'].pk}/", "Bright flat near Kalenić"),
        "event": (f"/en/events/{content['event'].slug}/", "Open mic at the roof"),
    }[kind]
    head = _page(path).head

    def meta(attribute: str, name: str) -> str:
        (tag,) = head.select(f'meta[{attribute}="{name}"]')
        return tag["content"]

    assert meta("property", "og:title") == title
    assert meta("property", "og:url") == SITE + path
    assert meta("property", "og:site_name")
    assert meta("property", "og:description") == meta("name", "description")
    assert meta("name", "twitter:card") == "summary"
    assert meta("name", "twitter:title") == title
    assert meta("name", "twitter:description") == meta("name", "description")


def test_a_description_with_quotes_and_markup_cannot_break_out_of_its_attribute(site, personas):
    org = directory.approve(
        directory.propose(
            actor=personas[roles.MEMBER].user,
            data={
                "name": "Quotes",
                "language": "en",
                "kind": "ngo",
                "city": "Beograd",
                "description": 'Say "hi" onmouseover=alert(1) & <b>bye</b> *now*',
            },
        ),
        actor=personas[roles.ORGANISER].user,
    )
    response = Client().get(f"/en/directory/{org.slug}/")
    (meta,) = soup(response).select('meta[name="description"]')
    assert meta["content"] == 'Say "hi" onmouseover=alert(1) & bye now'
    assert set(meta.attrs) == {"name", "content"}
    assert 'content="Say &quot;hi&quot; onmouseover=alert(1) &amp; bye now"' in (
        response.content.decode()
    )


def test_a_long_description_is_cut_to_300_characters_on_one_line(site, personas):
    org = directory.approve(
        directory.propose(
            actor=personas[roles.MEMBER].user,
            data={
                "name": "Long",
                "language": "en",
                "kind": "ngo",
                "city": "Beograd",
                "description": "Word\n\n" + "word " * 200,
            },
        ),
        actor=personas[roles.ORGANISER].user,
    )
    (meta,) = _page(f"/en/directory/{org.slug}/").select('meta[name="description"]')
    assert len(meta["content"]) == 300 and meta["content"].endswith("…")
    assert "\n" not in meta["content"]

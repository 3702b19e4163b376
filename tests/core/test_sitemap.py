"""krov.core.sitemap and the site-wide robots.txt and sitemap.xml."""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree

import pytest
from django.test import Client

from krov.core import sitemap

pytestmark = pytest.mark.django_db

NAMESPACE = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for one test; the apps' own sections are back afterwards."""
    monkeypatch.setattr(sitemap, "_sections", {})
    return sitemap


def parse(response):
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own server's answer


def test_the_sitemap_lists_every_registered_page_under_the_sites_address(registry, settings):
    settings.KROV_SITE_URL = "https://krov.example.org"
    settings.ALLOWED_HOSTS = ["*"]
    registry.register("one", lambda: [("/en/one/", date(2026, 5, 1))])
    registry.register("two", lambda: [("/sr/two/?a=1&b=2", date(2026, 5, 2))])
    # The configured address, whatever Host the request named (as the canonical links).
    response = Client().get("/sitemap.xml", HTTP_HOST="attacker.example")
    assert response["Content-Type"].startswith("application/xml")
    urls = [
        (url.findtext(f"{NAMESPACE}loc"), url.findtext(f"{NAMESPACE}lastmod"))
        for url in parse(response).iter(f"{NAMESPACE}url")
    ]
    assert urls == [
        ("https://krov.example.org/en/one/", "2026-05-01"),
        ("https://krov.example.org/sr/two/?a=1&b=2", "2026-05-02"),
    ]


def test_an_empty_sitemap_is_still_a_valid_urlset(registry):
    tree = parse(Client().get("/sitemap.xml"))
    assert tree.tag == f"{NAMESPACE}urlset" and not list(tree)


def test_the_apps_register_their_public_pages():
    assert set(sitemap._sections) == {"bulletins", "events"}


def test_robots_points_at_the_sitemap_and_keeps_crawlers_out_of_private_pages(settings):
    settings.KROV_SITE_URL = "https://krov.example"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "attacker.example"]
    response = Client().get("/robots.txt", HTTP_HOST="attacker.example")
    assert response["Content-Type"].startswith("text/plain")
    robots = response.content.decode().splitlines()
    assert "Sitemap: https://krov.example/sitemap.xml" in robots  # the site, not the Host
    for line in ("Disallow: /admin/", "Disallow: /en/aid/", "Disallow: /sr-latn/help/"):
        assert line in robots

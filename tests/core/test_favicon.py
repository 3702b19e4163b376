"""The favicon: linked from every page and answered at /favicon.ico (no 404 in the logs)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import soup

pytestmark = pytest.mark.django_db


def _fetch(client: Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_favicon_ico_is_a_real_icon():
    client = Client()
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].startswith("/static/krov/favicon")
    assert _fetch(client, response["Location"])[:4] == b"\x00\x00\x01\x00"  # an ICO file


@pytest.mark.parametrize("path", ["/en/", "/ru/events/"])
def test_pages_link_an_icon_that_exists(path):
    client = Client()
    icon = soup(client.get(path)).select_one('link[rel="icon"]')
    assert icon["type"] == "image/svg+xml"
    assert _fetch(client, icon["href"]).startswith(b"<svg")

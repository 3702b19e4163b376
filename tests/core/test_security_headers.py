from __future__ import annotations

from urllib.parse import urlparse

import pytest
from bs4 import BeautifulSoup
from django.conf import settings

pytestmark = pytest.mark.django_db


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0]] = tokens[1:]
    return directives


def test_csp_forbids_inline_script_and_foreign_hosts(client):
    response = client.get("/en/")
    csp = csp_directives(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_security_headers_are_set(client):
    response = client.get("/en/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/en/", "/ru/accounts/login/", "/uk/accounts/password/reset/"])
def test_pages_load_nothing_from_other_hosts_and_have_no_inline_script(client, path):
    soup = BeautifulSoup(client.get(path).content, "html.parser")
    site = urlparse(settings.KROV_SITE_URL).netloc
    for tag in soup.find_all(["script", "link", "img", "iframe", "source", "form"]):
        for attr in ("src", "href", "action"):
            url = tag.get(attr)
            # The canonical and hreflang links name the configured site: nothing is loaded.
            if url and ("canonical" in tag.get("rel", []) or tag.get("hreflang")):
                assert urlparse(url).netloc == site, url
                continue
            if url:
                assert not urlparse(url).netloc, f"<{tag.name}> points at another host: {url}"
    for script in soup.find_all("script"):
        assert script.get("src") or script.get("type") == "application/json", "inline script"


def test_every_asset_the_home_page_references_is_served_locally(client):
    soup = BeautifulSoup(client.get("/en/").content, "html.parser")
    assets = [t["src"] for t in soup.find_all("script", src=True)] + [
        t["href"] for t in soup.find_all("link", rel="stylesheet")
    ]
    assert len(assets) >= 2
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        b"".join(response.streaming_content) if response.streaming else response.content

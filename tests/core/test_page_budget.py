"""Pages are small on a bad phone connection: the event page, with the stylesheet and the
scripts it loads, stays under 60 KB gzipped. Bytes, measured through the test client."""

from __future__ import annotations

import gzip

import pytest

from tests.helpers import soup
from tests.main_pages import load_content, public_pages

pytestmark = pytest.mark.django_db

BUDGET = 60 * 1024


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def gzipped_weight(client, path: str) -> dict[str, int]:
    """The page and every stylesheet and script it loads, each gzipped as a server would."""
    response = client.get(path)
    assert response.status_code == 200
    weights = {path: len(gzip.compress(body(response)))}
    page = soup(response)
    assets = [link["href"] for link in page.select('link[rel~="stylesheet"][href]')]
    assets += [script["src"] for script in page.select("script[src]")]
    for asset in assets:
        asset_response = client.get(asset)
        assert asset_response.status_code == 200, asset
        weights[asset] = len(gzip.compress(body(asset_response)))
    return weights


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_event_page_with_its_css_and_js_is_under_60_kb_gzipped(client, language):
    load_content()
    event_page = next(page for page in public_pages(language) if page.name == "event")
    weights = gzipped_weight(client, event_page.path)
    assert len(weights) >= 2, "the stylesheet was not found on the page"
    assert sum(weights.values()) < BUDGET, weights

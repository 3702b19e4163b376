"""Housing in Chromium: a member posts a flat with a photo and sees its fair-rent verdict;
another member writes through Krov; the poster reads and answers; the rents page shows its
SVG charts (rendered, under the page's CSP) beside the table."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from krov.accounts import services as account_services
from krov.housing import districts, index
from krov.housing.models import District
from tests.browser.conftest import CHROMIUM
from tests.housing.conftest import add_observations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


def in_thread(fn):
    """ORM work next to Playwright's event loop runs in a plain thread."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", fn()))
    thread.start()
    thread.join()
    return result.get("value")


@pytest.mark.django_db(transaction=True)
def test_post_write_answer_and_read_the_rent_index(
    live_server, browser_page, new_browser_page, personas, tmp_path
):
    poster = personas["member"].user
    neighbour = account_services.create_account(
        email="n@example.org", pseudonym="Susjed", password=None, roles=["member"]
    )

    def seed():
        districts.ensure(District)  # an earlier transactional test may have flushed them
        add_observations("vracar", [600 + 10 * i for i in range(20)])
        index.rebuild()

    in_thread(seed)
    picture = tmp_path / "flat.jpg"
    Image.new("RGB", (1200, 800), (200, 120, 40)).save(picture, format="JPEG")

    page = new_browser_page(poster)
    page.goto(f"{live_server.url}/en/housing/new/")
    page.fill("input[name=title]", "Bright flat by Kalenić market")
    page.select_option("select[name=language]", "en")
    page.select_option("select[name=district]", label="Vračar")
    page.fill("input[name=location_hint]", "Kalenić")
    page.fill("input[name=size_m2]", "50")
    page.fill("input[name=rooms]", "2")
    page.fill("input[name=rent]", "850")
    page.fill("input[name=available_from]", (timezone.localdate() + timedelta(days=7)).isoformat())
    page.check("input[name=languages][value=en]")
    page.set_input_files("input[name=photos]", str(picture))
    page.click("main form button[type=submit]")
    page.wait_for_url("**/en/housing/*/")
    verdict = page.locator(".verdict").inner_text()
    assert "Much higher than usual" in verdict
    assert "Higher than 100% of 20 comparable flats in Vračar" in verdict
    # decode() resolves once the picture has loaded: never read its size before that.
    assert (
        page.locator("img.photo").evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    )
    listing_url = page.url

    other = new_browser_page(neighbour)
    other.goto(listing_url)
    assert poster.email not in other.content()
    other.fill("textarea[name=body]", "Hello! Is it still free in December?")
    other.click("button:has-text('Send to the poster')")
    other.wait_for_url("**/housing/messages/*/")
    assert "Is it still free in December?" in other.locator("ol.conversation").inner_text()

    page.goto(f"{live_server.url}/en/housing/messages/")
    page.click("ul.conversations a")
    page.fill("textarea[name=body]", "Yes, come on Saturday.")
    page.click("main form button[type=submit]")
    expect(page.locator("ol.conversation")).to_contain_text("Yes, come on Saturday.")
    other.reload()
    assert "Yes, come on Saturday." in other.locator("ol.conversation").inner_text()

    reader = browser_page
    reader.goto(f"{live_server.url}/en/housing/rents/")
    chart = reader.locator("figure.chart img")
    chart.evaluate("img => img.decode()")
    assert chart.evaluate("img => img.naturalWidth") == 760
    assert "Vračar" in reader.locator("table.rents").inner_text()
    for browser in (page, other, reader):
        assert browser.csp_violations == []

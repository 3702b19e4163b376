"""The rent index tables on a 360 px phone and a 1280 px desk, in Chromium: the overview
(`/en/housing/rents/`) and a district's page (`/en/housing/rents/vracar/`) keep their wide
table in a scrollable region that is named by the page's heading and reached by keyboard;
the page itself never scrolls sideways; the figures can be brought into view and read.

The rents are observed in fixed months (February 2022, the default base month, to December
2024); the pages take their months from the data, never from today's date."""

from __future__ import annotations

import os
from datetime import date

import pytest
from playwright.sync_api import expect

from krov.housing import districts, index
from krov.housing.models import District
from krov.housing.parsing import add_months
from tests.browser.conftest import CHROMIUM
from tests.housing.conftest import add_observations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]

PHONE, DESK = (360, 780), (1280, 900)
SPREAD = [-30, -20, -10, 0, 0, 10, 20, 30]  # eight rents a month; the median is the level


@pytest.fixture
def rent_index(transactional_db):
    """Vračar: 500 EUR a month until December 2023, then 1000 (twice a year before and
    twice the base month); Novi Beograd: 1250 throughout; Sopot: three rents a month, always
    too few to show. The index is rebuilt as the worker would."""
    districts.ensure(District)  # an earlier transactional test may have flushed them
    month = date(2022, 2, 1)
    while month <= date(2024, 12, 1):
        vracar = 500 if month.year < 2024 else 1000
        add_observations("vracar", [vracar + s for s in SPREAD], month=month)
        add_observations("novi-beograd", [1250 + s for s in SPREAD], month=month)
        add_observations("sopot", [300, 320, 340], month=month)
        month = add_months(month, 1)
    index.rebuild()


def no_sideways_scroll(page) -> int:
    """How far the document reaches past the viewport's width (0 or less: no overflow)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


# The figure's text (not its cell's padding) lies wholly inside its region's visible box and
# inside the viewport: a person sees every digit.
TEXT_ON_SCREEN = """cell => {
    const region = cell.closest('[role=region]');
    const range = document.createRange();
    range.selectNodeContents(cell);
    const text = range.getBoundingClientRect();
    const box = region.getBoundingClientRect();
    const left = box.left + region.clientLeft, top = box.top + region.clientTop;
    return text.width > 0 && text.height > 0
        && text.left >= Math.max(left, 0)
        && text.right <= Math.min(left + region.clientWidth, document.documentElement.clientWidth)
        && text.top >= Math.max(top, 0)
        && text.bottom <= Math.min(top + region.clientHeight, window.innerHeight);
}"""


# The caption's text begins inside the region's visible box, with the region unscrolled.
CAPTION_STARTS_IN_VIEW = """caption => {
    const region = caption.closest('[role=region]');
    const range = document.createRange();
    range.selectNodeContents(caption);
    const text = range.getBoundingClientRect(), box = region.getBoundingClientRect();
    return region.scrollLeft === 0 && text.width > 0 && text.left >= box.left
        && text.left < box.left + Math.min(region.clientWidth, 200);
}"""


def readable(cell, text: str) -> None:
    """The figure is there, and once scrolled to (within its region) wholly on screen."""
    expect(cell).to_have_text(text)
    expect(cell).to_be_visible()
    cell.evaluate("c => c.scrollIntoView({block: 'center', inline: 'center'})")
    cell.page.wait_for_function(TEXT_ON_SCREEN, arg=cell.element_handle())


def check_region_at(page, url: str, heading: str, size, tmp_path, figures) -> None:
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    response = page.goto(url)
    assert response is not None and response.ok, url
    page.evaluate("() => document.fonts.ready.then(() => true)")
    region = page.get_by_role("region", name=heading, exact=True)
    expect(region).to_have_attribute("tabindex", "0")
    expect(region.locator("table.rents")).to_have_count(1)
    assert page.locator("table.rents").count() == 1  # no rents table outside the region
    assert region.evaluate("r => getComputedStyle(r).overflowX") in ("auto", "scroll")

    overflow = no_sideways_scroll(page)
    if overflow > 0:
        shot = tmp_path / f"overflow-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        pytest.fail(f"{url} at {width} px scrolls sideways by {overflow} px; see {shot}")

    # The caption starts where the region does: read before anything is scrolled.
    assert region.locator("caption").evaluate(CAPTION_STARTS_IN_VIEW), (url, width)
    if width == DESK[0]:
        # On a desk the whole table fits its column: no figure waits behind a scroll.
        assert region.evaluate("r => r.scrollWidth <= r.clientWidth"), (url, width)
    if width == PHONE[0]:
        # Wider than the phone: the region scrolls, not the page, and a keyboard reaches it.
        assert region.evaluate("r => r.scrollWidth > r.clientWidth"), url
        page.keyboard.press("Tab")
        for _step in range(100):
            if region.evaluate("r => r === document.activeElement"):
                break
            page.keyboard.press("Tab")
        expect(region).to_be_focused()
        # An arrow key scrolls the focused region; Chromium animates it, so wait for the
        # scroll's end (not its first frame) before anything else moves the region.
        assert region.evaluate("r => r.scrollLeft") == 0, url
        region.evaluate(
            "r => r.addEventListener('scrollend', () => { window.scrolledTo = r.scrollLeft; })"
        )
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => window.scrolledTo > 0")

    for cell, text in figures(region):
        readable(cell, text)
    assert no_sideways_scroll(page) <= 0, (url, width)  # scrolling to a figure moved no page


def overview_figures(region):
    def row(district: str):
        header = region.page.get_by_role("rowheader", name=district, exact=True)
        return region.locator("tbody tr").filter(has=header)

    vracar, novi_beograd = row("Vračar"), row("Novi Beograd")
    cells = vracar.locator("td")
    return [
        (cells.nth(0), "1000"),  # median rent
        (cells.nth(1), "20.0"),  # per m²
        (cells.nth(3), "8"),  # rents counted
        (cells.nth(4), "×2.0"),  # against a year before
        (cells.nth(5), "×2.0"),  # since the base month, the last column
        (novi_beograd.locator("td").nth(0), "1250"),
    ]


def district_figures(region):
    newest = region.locator("tbody tr").first
    cells = newest.locator("td")
    oldest = region.locator("tbody tr").last
    return [
        (newest.get_by_role("rowheader"), "December 2024"),
        (cells.nth(0), "1000"),  # median rent
        (cells.nth(3), "8"),  # rents counted
        (cells.nth(4), "0"),  # not counted, the last column
        (oldest.get_by_role("rowheader"), "February 2022"),
        (oldest.locator("td").nth(0), "500"),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "heading", "figures"),
    [
        ("/en/housing/rents/", "Rent index by district", overview_figures),
        ("/en/housing/rents/vracar/", "Rents in Vračar", district_figures),
    ],
    ids=["overview", "district"],
)
def test_rent_tables_scroll_in_a_named_region_and_never_widen_the_page_at_360_and_1280_px(
    rent_index, browser_page, live_server, tmp_path, path, heading, figures
):
    for size in (PHONE, DESK):
        check_region_at(browser_page, live_server.url + path, heading, size, tmp_path, figures)
    assert browser_page.csp_violations == []

"""axe-core (vendored, tests/browser/vendor/) in Chromium on the main pages of every part, in
English and Russian, at a desktop and a phone width, in the light and the dark palette: no
serious or critical violation.

Every page is photographed at both widths into a pytest temporary directory (kept after the
run), so that a failing run leaves something for a person to look at; the failure message
says where."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from krov.accounts import roles
from tests.browser.conftest import CHROMIUM
from tests.main_pages import LANGUAGES, load_content, organisers_event, public_pages
from tests.main_pages import signed_in_pages as staff_pages

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# (name, width, height, colour scheme): both widths, each in the light and the dark palette.
VIEWS = [
    ("desktop", 1280, 900, "light"),
    ("desktop-dark", 1280, 900, "dark"),
    ("phone", 390, 844, "light"),
    ("phone-dark", 390, 844, "dark"),
]
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("axe-screenshots")


def axe_violations(page) -> list[dict]:
    """Run axe on the page as it is (injected through the DevTools protocol, which the
    page's Content-Security-Policy does not govern) and return the blocking violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5),
            }));
        }"""
    )
    return [v for v in result if v["impact"] in BLOCKING]


def check_pages(page, base_url: str, pages, label: str, shots: Path) -> list[str]:
    problems: list[str] = []
    for view, width, height, scheme in VIEWS:
        page.set_viewport_size({"width": width, "height": height})
        page.emulate_media(color_scheme=scheme)
        for item in pages:
            response = page.goto(base_url + item.path)
            assert response is not None and response.ok, (item.path, response and response.status)
            page.wait_for_load_state("load")
            page.screenshot(path=shots / f"{label}-{item.name}-{view}.png", full_page=True)
            for violation in axe_violations(page):
                problems.append(
                    f"{label} {view} {item.path}: {violation['impact']} {violation['id']}"
                    f" ({violation['help']}) at {violation['nodes']}"
                )
    return problems


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages_have_no_serious_axe_violation(live_server, browser_page, language, shots):
    load_content()
    problems = check_pages(
        browser_page, live_server.url, public_pages(language), f"public-{language}", shots
    )
    assert not problems, f"screenshots in {shots}\n" + "\n".join(problems)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_signed_in_pages_have_no_serious_axe_violation(
    live_server, new_browser_page, personas, language, shots
):
    load_content()
    event = organisers_event(personas[roles.ORGANISER].user)
    problems: list[str] = []
    browsers: dict[str, object] = {}
    for role, item in staff_pages(language, event):
        if role not in browsers:
            browsers[role] = new_browser_page(personas[role].user)
        problems += check_pages(
            browsers[role], live_server.url, [item], f"{role}-{language}", shots
        )
    assert not problems, f"screenshots in {shots}\n" + "\n".join(problems)

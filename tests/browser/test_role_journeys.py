"""Every role finds its way by clicking: each journey starts at the home page and reaches
every tool of the role through the site navigation and the role's home
(`/<lang>/dashboard/`), in Chromium at a desktop (1280 px) and a phone (390 px) width; on
the phone the site menu is opened first.

Each step is photographed into test-artifacts/screenshots/<role>/<width>/NN-step.png (or
under $KROV_TEST_ARTIFACTS), a folder that ignores itself in git, so that a person can look
at what a journey saw. One browser serves the whole file; a journey is one browser context
whose viewport changes between the two widths."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from krov.accounts import roles
from krov.aid.models import HelpRequest
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import make_persona
from tests.main_pages import organisers_event

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]

WIDTHS = ((1280, 900), (390, 844))
ARTIFACTS = Path(
    os.environ.get("KROV_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts"
)
SCREENSHOTS = ARTIFACTS / "screenshots"
LANGUAGE = "en"

# The tools each signed-in role must find on its home (paths, without the language prefix);
# the journey clicks every link the home offers, and these must be among them.
ACCOUNT_TOOLS = {"/account/", "/account/safety/", "/account/panic/"}
MEMBER_TOOLS = {"/housing/mine/", "/housing/messages/", "/housing/new/"}
EXPECTED_TOOLS = {
    "member": MEMBER_TOOLS,
    "volunteer": {"/aid/", "/aid/profile/", "/aid/keys/", "/aid/telegram/"},
    "coordinator": {
        "/aid/triage/",
        "/aid/volunteers/",
        "/aid/catalogue/",
        "/aid/dashboard/",
        "/account/role-requests/",
    },
    "organiser": {
        "/events/manage/",  # and the next event's manage and live pages (added below)
        "/housing/moderation/",
        "/housing/rents/import/",  # moderators of the housing board import rents
        "/directory/review/",
        "/guides/new/",
    },
    "editor": {"/bulletins/editor/", "/press/", "/press/sources/", "/directory/review/"},
    # Django's admin: the account list (locked accounts are unlocked there) and its index.
    "admin": {
        "/audit/",
        "/account/role-requests/",
        "/events/venues/",
        "/admin/accounts/user/",
        "/admin/",
    },
}
# The six public parts, in the order the site navigation lists them.
PARTS = (
    ("Ask for help", "/help/"),
    ("Events", "/events/"),
    ("Bulletins", "/bulletins/"),
    ("Housing", "/housing/"),
    ("Directory", "/directory/"),
    ("Guides", "/guides/"),
)


@pytest.fixture(scope="module")
def chromium():
    """One Chromium for every journey in this file (a launch is the slow part)."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the live server thread uses the ORM
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def journey(chromium, live_server, request):
    """`journey(role, user=None)`: a fresh browser context (signed in as `user`) and the
    photographer for that role's steps."""
    contexts = []

    def _start(role: str, user=None) -> Journey:
        context = chromium.new_context(locale="en-GB")
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user, backend="krov.accounts.backends.KrovBackend")
            cookie = client.cookies[settings.SESSION_COOKIE_NAME]
            context.add_cookies(
                [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
            )
        page = context.new_page()
        page.set_default_timeout(20_000)
        return Journey(page, live_server.url, role, user)

    yield _start
    for context in contexts:
        context.close()


def _ignored_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Written by the browser tests: screenshots, never committed.\n*\n")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "page"


class Journey:
    def __init__(self, page, base_url: str, role: str, user) -> None:
        self.page = page
        self.base_url = base_url
        self.role = role
        self.user = user
        self.width = 0
        self.step = 0
        self.folder = SCREENSHOTS

    # --- set-up and photographs ---------------------------------------------------------

    def at_width(self, width: int, height: int) -> None:
        self.width = width
        self.step = 0
        self.page.set_viewport_size({"width": width, "height": height})
        _ignored_folder(ARTIFACTS)
        self.folder = SCREENSHOTS / self.role / str(width)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)

    @property
    def phone(self) -> bool:
        return self.width < 700

    def shot(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(
            path=self.folder / f"{self.step:02d}-{_slug(name)}.png", full_page=True
        )

    def where(self) -> str:
        return f"{self.role} at {self.width} px, step {self.step + 1}"

    # --- moving by clicking -------------------------------------------------------------

    def home(self) -> None:
        """The start of every journey: the home page, as typed into the address bar."""
        response = self.page.goto(f"{self.base_url}/{LANGUAGE}/")
        assert response is not None and response.ok
        expect(self.page.get_by_role("heading", level=1)).to_be_visible()
        self.shot("home")

    def click(self, link, name: str, *, photograph: bool = True) -> None:
        """Click `link`; the page it leads to must load (no error status) with a heading."""
        expect(link, self.where()).to_be_visible()
        with self.page.expect_navigation() as navigation:
            link.click()
        response = navigation.value
        assert response is None or response.ok, (self.where(), name, response.status)
        self.page.wait_for_load_state("load")
        expect(self.page.get_by_role("heading", level=1).first, self.where()).to_be_visible()
        fragment = urlsplit(self.page.url).fragment
        if fragment:
            expect(self.page.locator(f"#{fragment}"), self.where()).to_be_attached()
        if photograph:
            self.shot(name)

    def site_link(self, name: str):
        """A part in the site navigation; on a phone, behind the menu, which opens first."""
        nav = self.page.get_by_role("navigation", name="Site")
        if self.phone:
            menu = nav.locator("details.site-menu")
            expect(nav.locator("ul.site-parts.wide-only"), self.where()).to_be_hidden()
            if menu.get_attribute("open") is None:
                menu.locator("summary").click()
            expect(menu.locator("ul.site-parts"), self.where()).to_be_visible()
        return nav.get_by_role("link", name=name, exact=True)

    def go_to_part(self, name: str, path: str) -> None:
        self.click(self.site_link(name), name)
        expect(self.page).to_have_url(re.compile(f"/{LANGUAGE}{re.escape(path)}$"))

    def dashboard(self, *, photograph: bool = True) -> None:
        """The person's home, through their name in the header's account navigation."""
        account = self.page.get_by_role("navigation", name="Account")
        link = account.get_by_role("link", name=self.user.pseudonym, exact=True)
        self.click(link, "dashboard", photograph=photograph)
        expect(self.page).to_have_url(re.compile(f"/{LANGUAGE}/dashboard/$"))

    def dashboard_links(self) -> list[tuple[str, str]]:
        """(accessible name, href) of every link in the home's panels, each href once."""
        links = self.page.locator("main section a[href]")
        seen: dict[str, str] = {}
        for index in range(links.count()):
            link = links.nth(index)
            href = link.get_attribute("href") or ""
            if href not in seen:
                seen[href] = " ".join(link.inner_text().split())
        return [(name, href) for href, name in seen.items()]

    def every_tool(self, expected: set[str], *, walked_by_member: bool = True) -> None:
        """From home, to the dashboard, then to each tool it links and back by clicking.

        Every signed-in person is also a member: the member's tools and the account pages
        must be on every dashboard, and the member's journey clicks them; other roles click
        only their own (`walked_by_member`), which keeps the file fast."""
        self.home()
        self.dashboard()
        links = self.dashboard_links()

        def path(href: str) -> str:
            return urlsplit(href).path.removeprefix(f"/{LANGUAGE}")

        shared = MEMBER_TOOLS | ACCOUNT_TOOLS
        missing = (expected | shared) - {path(href) for _name, href in links}
        assert not missing, f"{self.where()}: the dashboard does not link {sorted(missing)}"
        if walked_by_member:
            links = [(name, href) for name, href in links if path(href) not in shared]
        for name, href in links:
            self.click(self.page.locator(f'main section a[href="{href}"]').first, name)
            assert urlsplit(self.page.url).path == urlsplit(href).path, (self.where(), href)
            if self.page.get_by_role("navigation", name="Account").count():
                self.dashboard(photograph=False)  # photographed once, above
            else:  # Django's admin (parked Telegram updates) has its own header
                self.page.go_back(wait_until="load")
                expect(self.page).to_have_url(re.compile(f"/{LANGUAGE}/dashboard/$"))


@pytest.mark.django_db(transaction=True)
def test_a_visitor_reaches_every_public_part_through_the_site_navigation(journey):
    organisers_event(make_persona(roles.ORGANISER).user)  # something on the home page to open
    visitor = journey("visitor")
    for width, height in WIDTHS:
        visitor.at_width(width, height)
        visitor.home()
        # The home page's own "Coming up" leads to an event.
        visitor.click(visitor.page.locator("#home-events").get_by_role("link").first, "event")
        for name, path in PARTS:
            visitor.go_to_part(name, path)
        # The language switcher in the header.
        languages = visitor.page.locator("header details.language-menu")
        languages.locator("summary").click()
        visitor.click(languages.get_by_role("link", name="Русский"), "in-russian")
        expect(visitor.page).to_have_url(re.compile(r"/ru/guides/$"))
        expect(visitor.page.locator("html")).to_have_attribute("lang", "ru")
        account = visitor.page.get_by_role("navigation", name="Учётная запись")
        visitor.click(account.get_by_role("link"), "sign-in")
        expect(visitor.page).to_have_url(re.compile(r"/ru/accounts/login/"))


@pytest.mark.django_db(transaction=True)
def test_a_web_requester_asks_for_help_from_the_home_page_and_sees_their_request(journey):
    requester = journey("requester")
    for width, height in WIDTHS:
        requester.at_width(width, height)
        requester.home()
        main = requester.page.get_by_role("main")
        requester.click(main.get_by_role("link", name="Ask for help").first, "help-form")
        text = f"My mother cannot drive; teach me, please ({width})."
        requester.page.get_by_label("What do you need?").fill(text)
        requester.shot("filled-in")
        requester.click(main.locator("form.stack button[type=submit]"), "request-sent")
        expect(requester.page).to_have_url(re.compile(r"/en/help/c/[^/]+/\?new=1$"))
        expect(requester.page.get_by_role("main")).to_contain_text(text)
    assert HelpRequest.objects.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "role", [roles.MEMBER, roles.COORDINATOR, roles.ORGANISER, roles.EDITOR, roles.ADMIN]
)
def test_a_signed_in_role_reaches_every_tool_from_its_dashboard(journey, role):
    persona = make_persona(role)
    expected = set(EXPECTED_TOOLS[role])
    if role == roles.ORGANISER:  # a next event: its page for organisers and its live queue
        event = organisers_event(persona.user)
        with translation.override(LANGUAGE):
            expected |= {
                reverse(name, args=[event.slug]).removeprefix(f"/{LANGUAGE}")
                for name in ("events:manage", "events:live")
            }
    person = journey(role, persona.user)
    for width, height in WIDTHS:
        person.at_width(width, height)
        person.every_tool(expected, walked_by_member=role != roles.MEMBER)


@pytest.mark.django_db(transaction=True)
def test_a_volunteer_reaches_every_tool_from_their_dashboard(journey, make_volunteer):
    volunteer = make_volunteer("Veter", languages=("uk", "ru"))
    person = journey("volunteer", volunteer.user)
    for width, height in WIDTHS:
        person.at_width(width, height)
        person.every_tool(EXPECTED_TOOLS["volunteer"])


@pytest.mark.django_db(transaction=True)
def test_staff_tables_scroll_in_a_named_keyboard_region_at_360_px(journey):
    """The newsroom, press watch, the press sources, a poster's listings and the role
    requests are wider than a 360 px phone: the page itself
    must not scroll sideways; the table scrolls in a region a keyboard can focus, named by
    the page's heading."""
    from krov.accounts import services as account_services

    admin, editor = make_persona(roles.ADMIN), make_persona(roles.EDITOR)
    coordinator = make_persona(roles.COORDINATOR)
    member = make_persona(roles.MEMBER).user
    account_services.request_role(member, roles.VOLUNTEER, actor=editor.user)
    for user, path, name in (
        (coordinator.user, "/en/aid/triage/", "Triage"),
        (editor.user, "/en/bulletins/editor/", "Newsroom"),
        (editor.user, "/en/press/", "Press watch"),
        (editor.user, "/en/press/sources/", "Press sources"),
        (member, "/en/housing/mine/", "My listings"),
        (admin.user, "/en/account/role-requests/", "Role requests"),
    ):
        person = journey("tables", user)
        person.page.set_viewport_size({"width": 360, "height": 780})
        response = person.page.goto(person.base_url + path)
        assert response is not None and response.ok, path
        region = person.page.get_by_role("region", name=name, exact=True)
        expect(region).to_have_attribute("tabindex", "0")
        assert region.locator("table").count() == 1
        person.page.keyboard.press("Tab")  # from the document start, to the region by keyboard
        for _step in range(40):
            if region.evaluate("r => r === document.activeElement"):
                break
            person.page.keyboard.press("Tab")
        expect(region).to_be_focused()
        overflow = person.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (path, overflow)
        assert region.evaluate("r => r.scrollWidth > r.clientWidth"), path  # it scrolls inside


@pytest.mark.django_db(transaction=True)
def test_housing_filters_wait_behind_one_button_on_a_phone_and_stand_open_on_a_desk(journey):
    person = journey("filters")
    page = person.page
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(person.base_url + "/en/housing/")
    summary = page.locator("details.filter-panel > summary")
    form = page.locator("details.filter-panel form.filters")
    expect(summary).to_be_visible()
    expect(form).to_be_hidden()
    summary.click()
    expect(form).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()
    expect(form).to_be_visible()
    expect(summary).to_be_hidden()

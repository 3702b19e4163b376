"""A person's home shows what waits for each of their roles, with counts, and the site's
navigation reaches every part from every page, on a wide screen and on a phone, without
JavaScript."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from krov.accounts import roles
from krov.aid import home as aid_home
from krov.aid import services
from krov.aid.models import HelpRequest
from krov.core import home
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

PARTS = [
    "/en/help/",
    "/en/events/",
    "/en/bulletins/",
    "/en/housing/",
    "/en/directory/",
    "/en/guides/",
]


def panel_counts(page, key: str) -> dict[str, str]:
    section = page.select_one(f"section#{key}")
    assert section is not None, f"no {key} panel"
    return {
        li.a.get_text(strip=True): (
            li.select_one(".count").get_text() if li.select_one(".count") else ""
        )
        for li in section.select("li")
    }


def test_panels_come_in_their_order_and_a_role_without_one_gets_none():
    registered = dict(home._providers)
    try:
        home._providers.clear()
        home.register("b", lambda user: home.Panel(key="b", title="B", order=20))
        home.register("a", lambda user: home.Panel(key="a", title="A", order=10))
        home.register("none", lambda user: None)
        assert [panel.key for panel in home.panels_for(object())] == ["a", "b"]
    finally:
        home._providers.clear()
        home._providers.update(registered)


def test_the_coordinators_home_counts_what_waits_and_marks_life_or_safety(
    submit, coordinator, make_volunteer
):
    submit("new one")
    critical, _t = submit("life at risk", urgency=HelpRequest.Urgency.CRITICAL)
    taken, _t = submit("taken, not answered")
    services.triage(taken, actor=coordinator)
    services.assign(taken, make_volunteer("Veter"), actor=coordinator)
    page = soup(signed_in(coordinator).get("/en/dashboard/"))
    counts = panel_counts(page, "aid-coordinator")
    assert counts["Life or safety, not answered yet"] == "1"
    assert counts["New, not triaged yet"] == "2"  # the critical one is new too
    assert counts["Taken or offered, not answered yet"] == "1"
    urgent = page.select_one("section#aid-coordinator li.urgent")
    assert urgent is not None and "Life or safety" in urgent.get_text()
    assert "oldest:" in urgent.get_text()
    # Every tool of the role is one click away.
    links = {a["href"] for a in page.select("section#aid-coordinator a")}
    assert {"/en/aid/triage/", "/en/aid/volunteers/", "/en/aid/catalogue/"} <= {
        link.split("?")[0] for link in links
    }


def test_the_volunteers_home_counts_offers_and_open_cases(submit, coordinator, make_volunteer):
    volunteer = make_volunteer("Veter", max_cases=5)
    offered, _t = submit("offered")
    services.offer(offered, actor=coordinator, volunteer=volunteer)
    taken, _t = submit("taken")
    services.assign(taken, volunteer, actor=coordinator)
    page = soup(signed_in(volunteer.user).get("/en/dashboard/"))
    counts = panel_counts(page, "aid-volunteer")
    assert counts["Offers waiting for your answer"] == "1"
    assert counts["Your open cases"] == "1"
    assert page.select_one("section#aid-coordinator") is None  # not a coordinator


def test_a_member_gets_no_aid_panel_and_the_home_is_not_cached(personas):
    response = signed_in(personas[roles.MEMBER].user).get("/en/dashboard/")
    page = soup(response)
    assert page.select_one("section#aid-volunteer") is None
    assert page.select_one("section#aid-coordinator") is None
    assert response["Cache-Control"] == "no-store"


def test_the_aid_panels_take_the_same_queries_however_many_cases(
    submit, coordinator, make_volunteer
):
    volunteer = make_volunteer("Veter", max_cases=20)

    def add(count):
        for index in range(count):
            case, _t = submit(f"case {index}")
            services.assign(case, volunteer, actor=coordinator)
            submit(f"new {index}", urgency=HelpRequest.Urgency.CRITICAL)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            aid_home.coordinator_panel(coordinator)
            aid_home.volunteer_panel(volunteer.user)
        return len(captured)

    add(1)
    few = queries()
    add(5)
    assert queries() == few


@pytest.mark.parametrize("path", ["/en/", "/en/events/", "/en/guides/"])
def test_every_page_has_the_six_parts_and_the_language_menu_in_its_header(client, path):
    page = soup(client.get(path))
    header = page.select_one("header.site-header")
    wide = header.select_one("nav.site-nav ul.site-parts.wide-only")
    assert [a["href"] for a in wide.select("a")] == PARTS
    # The phone's menu is a <details>: it opens without JavaScript.
    phone = header.select_one("details.site-menu")
    assert phone.summary is not None and [a["href"] for a in phone.select("a")] == PARTS
    languages = header.select_one("details.language-menu")
    assert {a["hreflang"] for a in languages.select("a")} == {
        "ru",
        "uk",
        "sr",
        "sr-latn",
        "en",
        "de",
    }


def test_the_current_part_is_marked_for_screen_readers(client):
    page = soup(client.get("/en/events/"))
    current = page.select("nav.site-nav ul.wide-only a[aria-current=page]")
    assert [a["href"] for a in current] == ["/en/events/"]


@pytest.mark.django_db
def test_someone_just_given_the_volunteer_role_finds_their_tools_with_nothing_waiting():
    from krov.aid.models import VolunteerProfile
    from tests.conftest import make_persona

    user = make_persona("volunteer", email="new-volunteer@example.org").user
    VolunteerProfile.objects.filter(user=user).delete()  # no profile filled in yet
    panel = aid_home.volunteer_panel(user)
    assert panel is not None
    links = {item.url for item in panel.items}
    assert reverse("aid:profile") in links and reverse("aid:console") in links
    assert all(not item.urgent for item in panel.items)
    assert aid_home.volunteer_panel(make_persona("member").user) is None


HEADER_TOOLS = {
    "member": ["/en/housing/mine/"],
    "volunteer": ["/en/aid/", "/en/housing/mine/"],
    "coordinator": ["/en/aid/triage/", "/en/aid/", "/en/housing/mine/"],
    "organiser": [
        "/en/events/manage/",
        "/en/housing/moderation/",
        "/en/directory/review/",
        "/en/housing/mine/",
    ],
    "editor": ["/en/bulletins/editor/", "/en/press/", "/en/directory/review/", "/en/housing/mine/"],
    "admin": ["/en/account/role-requests/", "/en/housing/mine/"],
}


@pytest.mark.django_db
def test_the_header_lists_each_roles_tools_on_every_page(personas):
    for role, expected in HEADER_TOOLS.items():
        browser = signed_in(personas[role].user)
        for path in ("/en/events/", "/en/dashboard/"):
            page = soup(browser.get(path))
            menu = page.select_one("nav.account-nav details.tools-menu")
            assert menu is not None, (role, path)
            assert [a["href"] for a in menu.select("a")] == expected, (role, path)


@pytest.mark.django_db
def test_a_visitor_has_no_tools_menu(client):
    assert soup(client.get("/en/events/")).select_one(".tools-menu") is None


@pytest.mark.django_db
def test_the_tools_menu_is_in_the_persons_language(personas):
    page = soup(signed_in(personas["editor"].user).get("/ru/events/"))
    menu = page.select_one(".tools-menu")
    assert menu.select_one("summary").get_text(strip=True) == "Ваши инструменты"
    assert "/ru/bulletins/editor/" in [a["href"] for a in menu.select("a")]

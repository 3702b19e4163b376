"""An administrator's home has an Administration panel: what waits for them (requests for a
second person, locked accounts), counted, and every administration tool one click away;
nobody else gets it, and its queries do not grow with what waits."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from krov.accounts import home as accounts_home
from krov.accounts import roles, services
from tests.conftest import make_persona
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

KEY = "accounts-admin"
REQUESTS = "Role and unlock requests waiting for you"


def admin_panel(user) -> dict[str, tuple[str, str]]:
    """label -> (link, count) of each line of the user's Administration panel."""
    page = soup(signed_in(user).get("/en/dashboard/"))
    section = page.select_one(f"section#{KEY}")
    assert section is not None, "no administration panel"
    assert section.h2.get_text(strip=True) == "Administration"
    return {
        li.a.get_text(strip=True): (
            li.a["href"],
            li.select_one(".count").get_text() if li.select_one(".count") else "",
        )
        for li in section.select("li")
    }


def test_an_administrator_finds_every_administration_tool_on_their_home(personas):
    panel = admin_panel(personas[roles.ADMIN].user)
    assert {label: link for label, (link, _count) in panel.items()} == {
        REQUESTS: "/en/account/role-requests/",
        "Locked accounts": "/admin/accounts/user/?is_active__exact=0",
        "Accounts and roles": "/admin/accounts/user/",
        "Audit log": "/en/audit/",
        "Venues and their translations": "/en/events/venues/",
        "All administration pages": "/admin/",
    }
    assert panel[REQUESTS][1] == "0" and panel["Locked accounts"][1] == "0"


def test_an_administrator_keeps_the_venues_and_their_translations(personas):
    from krov.events.models import Venue

    venue = Venue.objects.create(name="Dorćol Platz", address="Dobračina 59b", language="sr")
    client = signed_in(personas[roles.ADMIN].user)
    assert client.get("/admin/events/venue/").status_code == 200
    page = client.get(f"/admin/events/venue/{venue.pk}/change/")
    assert page.status_code == 200
    assert b"translations-TOTAL_FORMS" in page.content
    organiser = signed_in(personas[roles.ORGANISER].user)
    assert organiser.get(f"/admin/events/venue/{venue.pk}/change/").status_code == 302


@pytest.mark.parametrize(
    "role",
    [roles.MEMBER, roles.VOLUNTEER, roles.COORDINATOR, roles.ORGANISER, roles.EDITOR],
)
def test_no_other_role_gets_the_administration_panel(personas, role):
    response = signed_in(personas[role].user).get("/en/dashboard/")
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one(f"section#{KEY}") is None
    links = {a["href"] for a in page.select("main a[href]")}
    assert not {href for href in links if href.startswith("/admin/")}
    assert "/en/audit/" not in links


def test_the_panel_counts_locked_accounts_and_requests_waiting_for_this_administrator(personas):
    asker = personas[roles.ADMIN].user
    second = make_persona(roles.ADMIN, email="second-admin@example.org").user
    member = personas[roles.MEMBER].user
    services.request_role(member, roles.VOLUNTEER, actor=asker)
    locked = make_persona(roles.MEMBER, email="locked@example.org").user
    services.panic(locked, via="button")
    services.request_unlock(locked, actor=asker)
    services.panic(make_persona(roles.MEMBER, email="locked-too@example.org").user, via="button")

    panel = admin_panel(second)
    assert panel[REQUESTS][1] == "2"  # the role and the unlock the other administrator asked
    assert panel["Locked accounts"][1] == "2"
    # The one who asked is not the second person: nothing waits for them.
    assert admin_panel(asker)[REQUESTS][1] == "0"


def test_the_count_follows_the_second_person_rule_of_the_role_requests_page(personas):
    """Someone whose own role a requester asked for is not a second person for them: the
    count agrees with what the role-requests page lists, for every administrator."""
    asker = personas[roles.ADMIN].user
    helper = make_persona(roles.MEMBER, email="helper@example.org").user
    grant = services.request_role(helper, roles.ADMIN, actor=asker)
    services.confirm_role_grant(grant, actor=personas[roles.COORDINATOR].user)
    services.request_role(personas[roles.MEMBER].user, roles.VOLUNTEER, actor=asker)
    locked = make_persona(roles.MEMBER, email="locked@example.org").user
    services.panic(locked, via="button")
    services.request_unlock(locked, actor=asker)

    for user in (asker, helper, personas[roles.COORDINATOR].user):
        listed = len(services.pending_role_grants(user)) + len(services.pending_unlocks(user))
        assert accounts_home.waiting_for(user).requests == listed
    assert accounts_home.waiting_for(helper).requests == 0
    assert accounts_home.waiting_for(personas[roles.COORDINATOR].user).requests == 2


def test_the_administration_panel_takes_the_same_queries_however_much_waits(personas):
    asker = personas[roles.ADMIN].user
    second = make_persona(roles.ADMIN, email="second-admin@example.org").user
    added = 0

    def add(count: int) -> None:
        nonlocal added
        for _index in range(count):
            added += 1
            person = make_persona(roles.MEMBER, email=f"person{added}@example.org").user
            services.request_role(person, roles.VOLUNTEER, actor=asker)
            services.panic(person, via="button")
            services.request_unlock(person, actor=asker)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            accounts_home.admin_panel(second)
        return len(captured)

    add(1)
    accounts_home.admin_panel(second)  # the permissions, read once per request anyway
    few = queries()
    add(4)
    assert queries() == few
    assert accounts_home.waiting_for(second).requests == 10

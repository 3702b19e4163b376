"""Who reaches which aid page: every aid URL, every role, against an explicit table.

Outcomes: "ok" (the view ran: 2xx, a redirect that is not to sign-in, or a 4xx about the
input), "login" (sent to sign in), "forbidden" (403: the role lacks the permission),
"hidden" (404: allowed in general, but not this case, which is not revealed)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from krov.accounts import roles
from krov.aid import services

pytestmark = pytest.mark.django_db

WHO = [
    "anonymous",
    "member",
    "volunteer_other",
    "volunteer_assigned",
    "volunteer_offered",
    "coordinator",
    "organiser",
    "editor",
    "admin",
]

DESK = {
    "anonymous": "login",
    "member": "forbidden",
    "volunteer_other": "ok",
    "volunteer_assigned": "ok",
    "volunteer_offered": "ok",
    "coordinator": "ok",
    "organiser": "forbidden",
    "editor": "forbidden",
    "admin": "forbidden",
}
CASE = {**DESK, "volunteer_other": "hidden", "volunteer_offered": "hidden"}
CASE_READ = {**CASE, "volunteer_offered": "ok"}
OFFER = {
    **DESK,
    "volunteer_other": "hidden",
    "volunteer_assigned": "hidden",
    "coordinator": "hidden",
}
COORDINATION = {
    **DESK,
    "volunteer_other": "forbidden",
    "volunteer_assigned": "forbidden",
    "volunteer_offered": "forbidden",
}
EVERYONE = dict.fromkeys(WHO, "ok")
# The key custodian's calls take its token, never a session: every signed-in role is refused.
CUSTODIAN_ONLY = dict.fromkeys(WHO, "token")

# (method, url template, expected). {case} is the assigned case, {offered} a case offered to
# volunteer_offered, {offer} that offer, {token} the requester link of {case}.
TABLE = [
    ("get", "/en/help/", EVERYONE),
    ("get", "/en/help/c/{token}/", EVERYONE),
    ("get", "/en/help/c/{token}/messages/", EVERYONE),
    ("post", "/en/help/c/{token}/forget/", EVERYONE),
    ("post", "/en/help/c/{token}/emails/stop/", EVERYONE),
    ("get", "/en/help/c/not-a-token/", dict.fromkeys(WHO, "hidden")),
    ("get", "/en/aid/", DESK),
    ("get", "/en/aid/profile/", DESK),
    ("post", "/en/aid/shift/", DESK),
    ("get", "/en/aid/cases/{case}/", CASE),
    ("get", "/en/aid/cases/{case}/messages/", CASE),
    ("post", "/en/aid/cases/{case}/attachment/", CASE),
    ("get", "/en/aid/cases/{case}/keys/", CASE),
    ("post", "/en/aid/cases/{case}/keys/", CASE),
    ("get", "/en/aid/cases/{offered}/", CASE_READ | {"volunteer_assigned": "hidden"}),
    ("post", "/en/aid/cases/{case}/reply/", CASE),
    ("post", "/en/aid/cases/{case}/note/", CASE),
    ("post", "/en/aid/cases/{case}/hand-over/", CASE),
    ("post", "/en/aid/cases/{case}/close/", CASE),
    ("post", "/en/aid/offers/{offer}/accept/", OFFER),
    ("post", "/en/aid/offers/{offer}/decline/", OFFER),
    ("get", "/en/aid/triage/", COORDINATION),
    ("get", "/en/aid/dashboard/", COORDINATION),
    ("get", "/en/aid/volunteers/", COORDINATION),
    ("get", "/en/aid/catalogue/", COORDINATION),
    ("post", "/en/aid/catalogue/", COORDINATION),
    ("post", "/en/aid/volunteers/{volunteer}/trust/", COORDINATION),
    ("post", "/en/aid/cases/{case}/triage/", COORDINATION),
    ("post", "/en/aid/cases/{case}/offer/", COORDINATION),
    ("post", "/en/aid/cases/{case}/assign/", COORDINATION),
    ("post", "/en/aid/cases/{case}/spam/", COORDINATION),
    ("post", "/en/aid/cases/{case}/merge/", COORDINATION),
    # Keys of sealed cases: every desk member keeps their own key; sharing is coordinators'.
    ("get", "/en/aid/keys/", DESK),
    ("get", "/en/aid/keys/mine/", DESK),
    ("post", "/en/aid/keys/reader/", DESK),
    ("post", "/en/aid/keys/team/", COORDINATION),
    ("get", "/en/aid/keys/team/grants/", COORDINATION),
    ("post", "/en/aid/keys/team/grants/", COORDINATION),
    ("get", "/en/aid/keys/cases/grants/", COORDINATION),
    ("get", "/en/aid/keys/team/rotate/", COORDINATION),
    ("post", "/en/aid/keys/team/rotate/", COORDINATION),
    ("post", "/en/aid/keys/cases/grants/", COORDINATION),
    ("get", "/en/aid/keys/relays/", COORDINATION),
    ("post", "/en/aid/keys/relays/", COORDINATION),
    ("post", "/en/aid/keys/custodians/{custodian}/revoke/", COORDINATION),
    ("post", "/custodian/v1/key", CUSTODIAN_ONLY),
    ("get", "/custodian/v1/mine", CUSTODIAN_ONLY),
    ("get", "/custodian/v1/case-grants", CUSTODIAN_ONLY),
    ("post", "/custodian/v1/case-grants", CUSTODIAN_ONLY),
    ("get", "/custodian/v1/relays", CUSTODIAN_ONLY),
    ("post", "/custodian/v1/relays", CUSTODIAN_ONLY),
]


def outcome(response) -> str:
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return "login"
    if response.status_code == 401 and response.get("WWW-Authenticate", "").startswith("Bearer"):
        return "token"
    if response.status_code == 403:
        return "forbidden"
    if response.status_code == 404:
        return "hidden"
    assert response.status_code < 500
    return "ok"


@pytest.fixture
def world(personas, make_volunteer, submit, coordinator):
    assigned = make_volunteer("Assigned")
    offered = make_volunteer("Offered")
    other = make_volunteer("Other")
    case, token = submit("assigned case")
    services.assign(case, assigned, actor=coordinator)
    offered_case, _t = submit("offered case")
    offer = services.offer(offered_case, actor=coordinator, volunteer=offered)
    users = {
        "member": personas[roles.MEMBER].user,
        "volunteer_other": other.user,
        "volunteer_assigned": assigned.user,
        "volunteer_offered": offered.user,
        "coordinator": coordinator,
        "organiser": personas[roles.ORGANISER].user,
        "editor": personas[roles.EDITOR].user,
        "admin": personas[roles.ADMIN].user,
    }
    values = {
        "case": case.public_id,
        "offered": offered_case.public_id,
        "offer": offer.public_id,
        "token": token,
        "volunteer": other.public_id,
        "custodian": services.add_custodian("night-desk")[0].public_id,
    }
    return users, values


def test_the_table_covers_every_aid_url():
    from uuid import uuid4

    from django.urls import get_resolver, resolve

    from tests.core.test_access import iter_patterns

    aid_views = {
        view.__name__
        for _route, view in iter_patterns(get_resolver().url_patterns)
        if view.__module__ == "krov.aid.views"
    }
    fake = dict.fromkeys(["case", "offered", "offer", "volunteer", "custodian"], uuid4()) | {
        "token": "t"
    }
    covered = {resolve(url.format(**fake)).func.__name__ for _m, url, _e in TABLE}
    assert aid_views and aid_views <= covered, aid_views - covered


@pytest.mark.parametrize(("method", "template", "expected"), TABLE, ids=[t[1] for t in TABLE])
def test_each_role_reaches_exactly_what_the_table_says(world, method, template, expected):
    users, values = world
    url = template.format(**values)
    seen = {}
    for who in WHO:
        client = Client()
        if who != "anonymous":
            client.force_login(users[who], backend="krov.accounts.backends.KrovBackend")
        with transaction.atomic():
            response = getattr(client, method)(url)
            seen[who] = outcome(response)
            transaction.set_rollback(True)
    assert seen == expected

"""Desk pages take the same number of queries however much data there is."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from krov.aid import services
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_triage_queue_queries_do_not_grow_with_requests(submit, coordinator):
    client = signed_in(coordinator)
    for index in range(3):
        submit(f"request {index}")
    few = queries_for(client, "/en/aid/triage/")
    for index in range(60):
        submit(f"more {index}", language=["uk", "ru"][index % 2])
    assert queries_for(client, "/en/aid/triage/") == few
    assert queries_for(client, "/en/aid/triage/?language=uk&urgency=2") == few


def test_volunteer_console_queries_do_not_grow_with_cases_and_offers(
    submit, make_volunteer, coordinator
):
    volunteer = make_volunteer("Veter", max_cases=20)
    client = signed_in(volunteer.user)

    def add(count):
        for index in range(count):
            case, _t = submit(f"case {index}")
            services.assign(case, volunteer, actor=coordinator)
            offered, _t = submit(f"offer {index}")
            services.offer(offered, actor=coordinator, volunteer=volunteer)

    add(1)
    few = queries_for(client, "/en/aid/")
    add(8)
    assert queries_for(client, "/en/aid/") == few


def test_case_page_queries_do_not_grow_with_the_conversation(active_case, coordinator):
    case, _token, volunteer = active_case
    client = signed_in(coordinator)
    url = f"/en/aid/cases/{case.public_id}/"
    services.post_reply(case, actor=volunteer.user, body="first")
    few = queries_for(client, url)
    for index in range(15):
        services.post_requester_message(case, body=f"in {index}")
        services.post_reply(case, actor=volunteer.user, body=f"out {index}")
        services.add_note(case, actor=volunteer.user, body=f"note {index}")
    assert queries_for(client, url) == few


def test_dashboard_queries_do_not_grow_with_requests(submit, coordinator):
    client = signed_in(coordinator)
    submit("one")
    few = queries_for(client, "/en/aid/dashboard/")
    for index in range(30):
        submit(f"more {index}", skill=["driving", "legal", "medical"][index % 3])
    assert queries_for(client, "/en/aid/dashboard/") == few


def test_the_background_key_sharing_round_does_not_grow_with_cases(
    submit, make_volunteer, coordinator
):
    """A coordinator's open Krov asks every 20 seconds which case keys wait to be shared."""
    from tests.aid.test_sealed_cases import Browser, make_team

    make_team(coordinator)

    def add(count):
        for index in range(count):
            volunteer = make_volunteer(f"Veter{index}{count}")
            Browser(volunteer.user)  # their key: each case waits to be shared with them
            case, _t = submit(f"case {index}")
            services.assign(case, volunteer, actor=coordinator)

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            pending = services.pending_case_grants(coordinator)
        return len(pending), len(captured)

    add(1)
    waiting, few = queries()
    add(6)
    assert queries() == (waiting + 6, few)

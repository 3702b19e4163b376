"""Desk pages for volunteers and coordinators, through HTTP."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.test import Client, override_settings

from krov.accounts import services as account_services
from krov.aid import services
from krov.aid.models import HelpRequest, Note, TrustLevel, VolunteerProfile
from tests.conftest import PASSWORD
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db


def test_volunteer_sets_languages_skills_and_hours_on_the_profile_page(make_volunteer, skills):
    volunteer = make_volunteer("Veter")
    client = signed_in(volunteer.user)
    response = client.post(
        "/en/aid/profile/",
        {
            "languages": ["uk", "be"],
            "max_cases": "3",
            "time_zone": "Europe/Kyiv",
            "day0_0_from": "18:00",
            "day0_0_until": "22:00",
            "day5_1_from": "22:00",  # runs past midnight
            "day5_1_until": "02:00",
            f"skill_{skills['legal'].pk}": "3",
            f"skill_{skills['driving'].pk}": "0",
        },
    )
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.languages == ["uk", "be"] and volunteer.max_cases == 3
    assert volunteer.time_zone == "Europe/Kyiv" and not volunteer.paused
    assert {(s.skill.slug, s.level) for s in volunteer.skills.select_related("skill")} == {
        ("legal", 3)
    }
    assert sorted(
        (w.weekday, f"{w.start:%H:%M}", f"{w.end:%H:%M}") for w in volunteer.windows.all()
    ) == [
        (0, "18:00", "22:00"),
        (5, "22:00", "02:00"),
    ]
    # The picker shows them again: Monday's first window, Saturday's first (filled in order).
    page = BeautifulSoup(client.get("/en/aid/profile/").content, "html.parser")
    assert page.select_one("#id_day0_0_from")["value"] == "18:00"
    assert page.select_one("#id_day5_0_until")["value"] == "02:00"
    assert page.select_one("#id_day5_1_from").get("value") is None
    assert "Monday" in page.select_one(".week-picker").get_text()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Mars/Olympus"),
        ("max_cases", "0"),
        ("day2_0_from", "25:00"),  # not a time
        ("day2_0_from", "18:00"),  # a window without its end
        ("day2_0_until", "18:00"),  # ... or its start
        ("day9_0_from", "18:00"),  # no such day: ignored, so add a bad one with it below
    ],
)
def test_profile_page_refuses_bad_input_and_changes_nothing(make_volunteer, field, value):
    volunteer = make_volunteer("Veter")
    data = {"languages": ["uk"], "max_cases": "2", "time_zone": "Europe/Belgrade"}
    data[field] = value
    if field == "day9_0_from":
        data.update({"day3_0_from": "10:00", "day3_0_until": "10:00"})  # ends as it starts
    response = signed_in(volunteer.user).post("/en/aid/profile/", data)
    assert response.status_code == 400
    errors = BeautifulSoup(response.content, "html.parser").select(".has-error .error")
    assert errors
    volunteer.refresh_from_db()
    assert volunteer.time_zone == "Europe/Belgrade" and volunteer.max_cases == 2


def test_coordinator_vouches_for_a_member_who_starts_on_probation(coordinator):
    member = account_services.create_account(
        email="new@example.org", pseudonym="Newcomer", password=PASSWORD, email_verified=True
    )
    client = signed_in(coordinator)
    response = client.post("/en/aid/volunteers/", {"account": "newcomer", "languages": ["ru"]})
    assert response.status_code == 302
    profile = VolunteerProfile.objects.get(user=member)
    assert profile.trust == TrustLevel.PROBATION and profile.vouched_by == coordinator
    member = type(member).objects.get(pk=member.pk)  # fresh: permissions are cached
    assert member.has_perm("accounts.answer_help_requests")
    missing = client.post("/en/aid/volunteers/", {"account": "nobody", "languages": ["ru"]})
    assert missing.status_code == 400


def test_coordinator_changes_trust_from_the_volunteers_page(coordinator, make_volunteer):
    volunteer = make_volunteer("Veter", trust=TrustLevel.PROBATION)
    client = signed_in(coordinator)
    response = client.post(f"/en/aid/volunteers/{volunteer.public_id}/trust/", {"trust": "2"})
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.trust == TrustLevel.TRUSTED


def test_a_volunteer_question_waits_in_triage_until_a_coordinator_answers(active_case, coordinator):
    case, _token, volunteer = active_case
    services.add_note(case, actor=volunteer.user, body="Is the route safe?", question=True)
    client = signed_in(coordinator)
    page = BeautifulSoup(client.get("/en/aid/triage/").content, "html.parser")
    assert case.code in page.select_one("ul.questions").get_text()
    client.post(f"/en/aid/cases/{case.public_id}/note/", {"body": "Yes, via Užhorod."})
    assert not Note.objects.filter(kind=Note.Kind.QUESTION, resolved=False).exists()
    page = BeautifulSoup(client.get("/en/aid/triage/").content, "html.parser")
    assert page.select_one("ul.questions") is None


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
def test_a_leaked_link_cannot_flood_the_case(active_case):
    case, token, _volunteer = active_case
    client = Client()
    for index in range(30):
        assert client.post(f"/en/help/c/{token}/", {"body": f"m{index}"}).status_code == 302
    response = client.post(f"/en/help/c/{token}/", {"body": "one too many"})
    assert response.status_code == 429
    assert case.messages.filter(direction="in").count() == 30


def test_the_case_page_shows_the_explained_ranking_to_coordinators(
    submit, make_volunteer, coordinator
):
    make_volunteer("Veter", skill_levels={"driving": 3}, max_cases=3)
    case, _token = submit()
    page = BeautifulSoup(
        signed_in(coordinator).get(f"/en/aid/cases/{case.public_id}/").content, "html.parser"
    )
    match = page.select_one("ol.matches li.match")
    assert "Veter" in match.get_text()
    assert match.select_one(".explanation").get_text().startswith("uk ✓, ★★★, 0/3 cases")


def test_an_offered_volunteer_reads_the_request_but_not_the_notes(
    submit, make_volunteer, coordinator
):
    volunteer = make_volunteer("Veter")
    case, _token = submit("Please help with the route")
    services.add_note(case, actor=coordinator, body="internal: caller sounded scared")
    services.offer(case, actor=coordinator, volunteer=volunteer)
    page = signed_in(volunteer.user).get(f"/en/aid/cases/{case.public_id}/")
    text = BeautifulSoup(page.content, "html.parser").get_text()
    assert "Please help with the route" in text
    assert "caller sounded scared" not in text


def test_closing_a_case_and_marking_spam_ask_i_am_sure_first(active_case, coordinator):
    from krov.aid.models import HelpRequest
    from tests.helpers import signed_in

    case, _token, volunteer = active_case
    desk = signed_in(volunteer.user)
    url = f"/en/aid/cases/{case.public_id}/"
    response = desk.post(url + "close/", {"outcome": "helped"}, follow=True)
    assert "I am sure" in response.content.decode()
    case.refresh_from_db()
    assert case.status != HelpRequest.Status.CLOSED
    desk.post(url + "close/", {"outcome": "helped", "confirm": "yes"})
    case.refresh_from_db()
    assert case.status == HelpRequest.Status.CLOSED

    other = services.submit_request(
        channel="web", language="uk", skill=case.skill, description="spam spam"
    ).request
    coordinator_desk = signed_in(coordinator)
    spam_url = f"/en/aid/cases/{other.public_id}/spam/"
    coordinator_desk.post(spam_url)
    other.refresh_from_db()
    assert other.status != HelpRequest.Status.SPAM
    coordinator_desk.post(spam_url, {"confirm": "yes"})
    other.refresh_from_db()
    assert other.status == HelpRequest.Status.SPAM


def test_the_case_page_writes_dates_in_the_pages_grammar(coordinator, submit):
    """Dates follow each language (genitive months in Russian and Ukrainian, the Serbian
    dot), and <time> carries a machine date without microseconds."""
    import re
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    with time_machine.travel(datetime(2026, 12, 5, 18, 30, 15, 123456, tzinfo=ZoneInfo("UTC"))):
        case, _token = submit("Need a lift to the border")
    client = signed_in(coordinator)
    expected = {
        "ru": "5 декабря 2026",
        "uk": "5 грудня 2026",
        "sr": "5. децембар 2026.",
        "en": "5 December 2026",
    }
    for language, text in expected.items():
        page = client.get(f"/{language}/aid/cases/{case.public_id}/").content.decode()
        assert text in page, language
    page = client.get(f"/en/aid/cases/{case.public_id}/").content.decode()
    stamps = re.findall(r'<time datetime="([^"]+)"', page)
    assert stamps  # "who opened this case", at least
    for stamp in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", stamp), stamp


def test_an_offer_card_names_the_case_code_and_channel(submit, make_volunteer, coordinator):
    volunteer = make_volunteer("Veter")
    case, _token = submit("Need a lift to the border")
    services.offer(case, actor=coordinator, volunteer=volunteer)
    card = BeautifulSoup(
        signed_in(volunteer.user).get("/en/aid/").content, "html.parser"
    ).select_one(".card.offer")
    assert case.code in card.select_one(".case-code").get_text()
    assert "Web" in card.select_one(".offer-case").get_text()


def test_marking_as_spam_can_be_undone_back_to_triage(coordinator, submit):
    case, _token = submit("Потрібна допомога з документами")
    desk = signed_in(coordinator)
    response = desk.post(f"/en/aid/cases/{case.public_id}/spam/", {"confirm": "yes"}, follow=True)
    case.refresh_from_db()
    assert case.status == HelpRequest.Status.SPAM
    token = soup(response).select_one("form.undo input[name=token]")["value"]
    undone = desk.post("/en/undo/", {"token": token, "next": "/en/aid/"}, follow=True)
    case.refresh_from_db()
    assert case.status == HelpRequest.Status.NEW and case.closed_at is None
    assert f"{case.code} is back in triage." in undone.content.decode()
    # Once undone, the same button does nothing more.
    again = desk.post("/en/undo/", {"token": token}, follow=True)
    assert "no longer marked as spam" in again.content.decode()

"""The whole mutual-aid path in Chromium: a requester asks in Ukrainian, a coordinator sees
the ranked, explained matches and offers, a volunteer accepts, they talk through the relay
(the volunteer's page updates without reload), the volunteer closes the case."""

from __future__ import annotations

import os
import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect

from krov.accounts import roles
from krov.accounts import services as account_services
from krov.aid import services
from krov.aid.models import HelpRequest, Skill
from tests.browser.conftest import CHROMIUM
from tests.conftest import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.mark.django_db(transaction=True)
def test_request_answer_close_in_a_real_browser(
    live_server, browser_page, new_browser_page, personas
):
    coordinator = personas[roles.COORDINATOR].user
    volunteer_user = account_services.create_account(
        email="veter@example.org", pseudonym="Veter", password=PASSWORD, email_verified=True
    )
    TOTP.activate(volunteer_user, generate_totp_secret())
    volunteer = services.vouch_for(volunteer_user, actor=coordinator, languages=["uk"])
    services.update_profile(
        volunteer,
        actor=volunteer_user,
        languages=["uk", "ru"],
        max_cases=2,
        time_zone="Europe/Belgrade",
        paused=False,
        skills={Skill.objects.get(slug="driving").pk: 3},
        windows=[],
    )
    services.set_trust(volunteer, 1, actor=coordinator)

    # 1. The requester, no account, in Ukrainian.
    requester = browser_page
    requester.goto(f"{live_server.url}/uk/help/")
    requester.select_option("select[name=skill]", str(Skill.objects.get(slug="driving").pk))
    requester.fill(
        "textarea[name=description]", "Мама не може вести авто. Навчіть мене водити, будь ласка."
    )
    requester.click("main form.stack button[type=submit]")
    requester.wait_for_url(re.compile(r".*/uk/help/c/[^/]+/\?new=1$"))
    case_link = requester.url.split("?")[0]
    assert requester.locator("code.secret-link").inner_text() == case_link
    case = HelpRequest.objects.get()
    assert case.language == "uk"

    # 2. The coordinator sees it in triage and the explained ranking, and offers.
    desk = new_browser_page(coordinator)
    desk.goto(f"{live_server.url}/en/aid/triage/")
    desk.click(f"text={case.code}")
    match = desk.locator("ol.matches li.match").first
    assert "Veter" in match.inner_text()
    assert match.locator(".explanation").inner_text().startswith("uk ✓, ★★★, 0/2 cases")
    match.locator("button", has_text="Offer").click()
    expect(desk.locator("body")).to_contain_text("Offered to Veter")

    # 3. The volunteer accepts and answers; the answer appears without a reload.
    helper = new_browser_page(volunteer_user)
    helper.goto(f"{live_server.url}/en/aid/")
    helper.click("ul.offers button:has-text('Accept')")
    helper.wait_for_url(f"**/aid/cases/{case.public_id}/")
    helper.fill("textarea[name=body]", "Вітаю! Я допоможу. Де ви зараз?")
    helper.click("form.reply-form button[type=submit]")
    helper.locator("#conversation", has_text="Де ви зараз?").wait_for()
    assert helper.input_value("textarea[name=body]") == ""

    # 4. The requester sees the answer under the case alias only, and writes back.
    requester.goto(case_link)
    conversation = requester.locator("#conversation").inner_text()
    case.refresh_from_db()
    assert "Де ви зараз?" in conversation and case.alias in conversation
    assert "Veter" not in requester.content()
    requester.fill("textarea[name=body]", "Я в Харкові, з мамою.")
    requester.click("main form.stack button[type=submit]")
    expect(requester.locator("main")).to_contain_text("Я в Харкові, з мамою.")

    # 5. The volunteer's conversation updates by itself (htmx polling).
    helper.locator("#conversation", has_text="Я в Харкові").wait_for(timeout=15_000)

    # 6. The volunteer closes the case; the requester sees it closed.
    helper.select_option("select[name=outcome]", "helped")
    helper.check("form[action$='/close/'] input[name=confirm]")
    helper.click("button:has-text('Close the case')")
    for _ in range(150):  # wait on the condition (the POST reaching the server), 15 s at most
        case.refresh_from_db()
        if case.status == "closed":
            break
        helper.wait_for_timeout(100)
    assert case.status == "closed" and case.outcome == "helped"
    requester.goto(case_link)
    assert requester.locator("form.stack textarea").count() == 0
    for page in (requester, desk, helper):
        assert getattr(page, "csp_violations", []) == []

"""Sealed cases in Chromium: a coordinator and a volunteer make their keys in their browsers,
the coordinator makes the team key, a requester asks on the web; the pages the server sends
hold only ciphertext, and the coordinator, the volunteer and the requester each read the
case in their own browser. No CSP violation on any page."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from playwright.sync_api import expect

from krov.accounts import roles
from krov.accounts import services as account_services
from krov.aid import services
from krov.aid.models import HelpRequest, Skill
from krov.core import sealing
from tests.browser.conftest import CHROMIUM
from tests.conftest import PASSWORD
from tests.helpers import reauthenticate_session

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]

REQUEST = "Маркер-51: мама не може вести авто, ми в Бердянську."
REPLY = "Маркер-52: я допоможу, де ви зараз?"
TG_REPLY = "Маркер-54: я вже їду."
PASSPHRASE = "correct horse battery staple"


def confirm_it_is_me(page, user) -> None:
    """The person has just confirmed their password (allauth's reauthentication), which
    making a key asks for on top of the session."""
    (session,) = [c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME]
    reauthenticate_session(session["value"], user)


def make_key(page, base_url: str, user) -> dict:
    """Make a reader key on the "My key" page; returns the recovery file it downloaded."""
    confirm_it_is_me(page, user)
    page.goto(f"{base_url}/en/aid/keys/")
    expect(page.locator("#keys-page")).to_have_attribute("data-ready", "1")
    page.fill("#create-pass", PASSPHRASE)
    page.fill("#create-pass2", PASSPHRASE)
    with page.expect_download() as download:
        page.click("button:has-text('Make my key')")
    expect(page.locator("#keys-page")).to_have_attribute("data-state", "ready")
    return json.loads(Path(download.value.path()).read_text())


@pytest.mark.django_db(transaction=True)
def test_coordinator_volunteer_and_requester_read_a_sealed_case_in_their_browsers(
    live_server, browser_page, new_browser_page, personas
):
    coordinator = personas[roles.COORDINATOR].user
    if not account_services.has_mfa(coordinator):
        TOTP.activate(coordinator, generate_totp_secret())
    volunteer_user = account_services.create_account(
        email="veter@example.org", pseudonym="Veter", password=PASSWORD, email_verified=True
    )
    TOTP.activate(volunteer_user, generate_totp_secret())
    volunteer = services.vouch_for(volunteer_user, actor=coordinator, languages=["uk"])
    services.update_profile(
        volunteer,
        actor=volunteer_user,
        languages=["uk"],
        max_cases=2,
        time_zone="Europe/Belgrade",
        paused=False,
        skills={Skill.objects.get(slug="driving").pk: 3},
        windows=[],
    )
    services.set_trust(volunteer, 1, actor=coordinator)
    base = live_server.url

    # 1. The coordinator makes their key (the recovery file holds no bare key) and the team key.
    desk = new_browser_page(coordinator)
    recovery = make_key(desk, base, coordinator)
    assert recovery["krov"] == "reader-key" and recovery["kdf"] == "scrypt"
    assert recovery["public"] == services.reader_key_of(coordinator).public_key
    desk.click("button:has-text('Make the team key')")
    expect(desk.locator("#keys-status")).to_contain_text("The team key is made")
    assert services.current_team_key() is not None

    # 2. The volunteer makes theirs.
    helper = new_browser_page(volunteer_user)
    make_key(helper, base, volunteer_user)

    # 3. A requester asks on the web, without an account.
    requester = browser_page
    requester.goto(f"{base}/uk/help/")
    requester.select_option("select[name=skill]", str(Skill.objects.get(slug="driving").pk))
    requester.fill("textarea[name=description]", REQUEST)
    requester.click("main form.stack button[type=submit]")
    requester.wait_for_url(re.compile(r".*/uk/help/c/[^/]+/\?new=1$"))
    case_link = requester.url.split("?")[0]
    case = HelpRequest.objects.get()
    assert case.is_sealed and sealing.is_sealed(case.description)

    # 4. The page the server sends holds ciphertext; the coordinator's browser opens it.
    served = desk.context.request.get(f"{base}/en/aid/cases/{case.public_id}/").text()
    assert "Маркер" not in served and "data-sealed" in served
    desk.goto(f"{base}/en/aid/cases/{case.public_id}/")
    expect(desk.locator(".request-text")).to_contain_text(REQUEST)

    # 5. The case goes to the volunteer, who cannot open it until a coordinator's open Krov
    #    shares its key (here: the coordinator's case page, loaded again). First, someone
    #    without the team key (a stolen token, say) leaves a copy that wraps another key for
    #    the volunteer: their browser sees it is not this case's key and has it dropped.
    from krov.aid.models import CaseKeyGrant

    services.assign(case, volunteer, actor=coordinator)
    reader = services.reader_key_of(volunteer_user)
    junk = CaseKeyGrant.objects.create(
        request=case,
        reader_key=reader,
        wrapped=sealing.seal_bytes(
            sealing.KeyPair.generate().private,
            reader.public_key,
            sealing.case_key_info(str(case.public_id)),
        ),
    )
    helper.goto(f"{base}/en/aid/cases/{case.public_id}/")
    expect(helper.locator("#sealed-notice")).to_be_visible()
    for _ in range(100):  # wait on the condition: the browser's report reaching the server
        if not CaseKeyGrant.objects.filter(pk=junk.pk).exists():
            break
        helper.wait_for_timeout(100)
    assert not CaseKeyGrant.objects.filter(pk=junk.pk).exists()
    desk.reload()
    for _ in range(100):  # wait on the condition: the grant reaching the server, 10 s at most
        if services.wrapped_case_key_for(volunteer_user, case) is not None:
            break
        desk.wait_for_timeout(100)
    helper.reload()
    expect(helper.locator(".request-text")).to_contain_text(REQUEST)

    # 6. The volunteer answers; the reply is sealed on arrival and opens in their page.
    helper.fill("textarea[name=body]", REPLY)
    helper.click("form.reply-form button[type=submit]")
    expect(helper.locator("#conversation")).to_contain_text(REPLY)
    assert all(sealing.is_sealed(m.body) for m in case.messages.all())

    # 7. The coordinator renews the team key; the case still opens, the old key is gone. A
    #    request that arrives while the browser re-wraps comes back as missing: the browser
    #    wraps it too and sends again, so a renewal finishes however busy intake is.
    old_team = services.current_team_key()
    arrived = []

    def a_request_arrives_first(route) -> None:
        if route.request.method == "POST" and not arrived:
            arrived.append(
                services.submit_request(
                    channel="web",
                    language="uk",
                    skill=Skill.objects.get(slug="driving"),
                    description="Маркер-55: прийшло під час оновлення ключа.",
                ).request
            )
        route.continue_()

    desk.route("**/aid/keys/team/rotate/", a_request_arrives_first)
    desk.goto(f"{base}/en/aid/keys/")
    expect(desk.locator("#keys-page")).to_have_attribute("data-state", "ready")
    desk.click("button:has-text('Renew the team key now')")
    expect(desk.locator("#keys-status")).to_contain_text("The team key is renewed")
    desk.unroute("**/aid/keys/team/rotate/")
    old_team.refresh_from_db()
    assert old_team.retired_at is not None and not old_team.grants.exists()
    (late,) = arrived
    assert late.key_grants.get(team_key__isnull=False).team_key == services.current_team_key()
    desk.goto(f"{base}/en/aid/cases/{late.public_id}/")
    expect(desk.locator(".request-text")).to_contain_text("Маркер-55")
    desk.goto(f"{base}/en/aid/cases/{case.public_id}/")
    expect(desk.locator(".request-text")).to_contain_text(REQUEST)
    expect(desk.locator("#conversation")).to_contain_text(REPLY)

    # 8. The requester reads the reply through their secret link: the page the server sends
    #    holds it sealed, and their browser opens it with the key the link derives.
    served = requester.context.request.get(case_link).text()
    assert REPLY not in served and "data-sealed" in served
    requester.goto(case_link)
    expect(requester.locator("#conversation")).to_contain_text(REPLY)
    expect(requester.locator("#requester-keys")).to_have_attribute("data-ready", "1")
    expect(requester.locator(".request-text")).to_have_text(REQUEST)  # what they asked

    # 9. An answer to a Telegram requester waits after the worker that held its key stopped;
    #    the coordinator's open Krov hands the case key to the running worker.
    from krov.telegram import outbox_keys
    from krov.telegram import services as telegram
    from krov.telegram.models import Outbound

    chat = telegram.get_or_create_chat(555000999)
    tg_case = services.submit_request(
        channel="telegram",
        language="uk",
        skill=Skill.objects.get(slug="driving"),
        description="Маркер-53: потрібна машина.",
        contact_handle="555000999",
        contact_lookup=chat.contact_lookup,
    ).request
    services.assign(tg_case, volunteer, actor=coordinator)
    services.post_reply(tg_case, actor=volunteer_user, body=TG_REPLY)
    answer = tg_case.messages.get(direction="out")
    outbox_keys.forget()  # the worker stopped, and its key with it
    Outbound.objects.filter(aid_message__request=tg_case).update(
        status=Outbound.Status.WAITING, sealed={}
    )
    outbox_keys.hold()  # a worker runs again
    desk.goto(f"{base}/en/aid/")
    row = Outbound.objects.get(aid_message=answer)
    for _ in range(100):  # wait on the condition: the browser's round reaching the server
        row.refresh_from_db()
        if row.status != Outbound.Status.WAITING:
            break
        desk.wait_for_timeout(100)
    assert row.status == Outbound.Status.QUEUED and TG_REPLY not in row.params
    # It handed the worker the case key, not a text: the worker opens the stored answer.
    assert row.sealed_case_key
    assert outbox_keys.open_held(row, answer) == TG_REPLY

    # 10. The Telegram requester sent a photo: the coordinator's browser opens its sealed
    #     reference, and the photo comes from Telegram for that one response.
    import io

    from django.test import override_settings
    from PIL import Image

    from krov.telegram.fake import FakeBotAPI

    picture = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 40, 40)).save(picture, format="JPEG")
    fake = FakeBotAPI().start()
    try:
        fake.add_file("AgACAgIAAxkBAAIBphoto55", picture.getvalue())
        services.post_requester_message(
            tg_case, body="Маркер-55: фото", attachment_ref="photo:AgACAgIAAxkBAAIBphoto55"
        )
        with override_settings(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.base_url):
            desk.goto(f"{base}/en/aid/cases/{tg_case.public_id}/")
            desk.click(".attachment button")
            expect(desk.locator("img.attachment-photo")).to_be_visible()
            desk.wait_for_function(
                "document.querySelector('img.attachment-photo').naturalWidth === 24"
            )
    finally:
        fake.stop()

    for page in (requester, desk, helper):
        assert page.csp_violations == []

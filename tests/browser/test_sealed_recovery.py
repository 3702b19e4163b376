"""Key loss, recovered in Chromium: a coordinator whose browser lost its key store opens
their recovery file with their passphrase and reads the case again. A wrong passphrase and
another key's file (or no recovery file at all) are refused with a message in the page's
language, and leave the browser without a key."""

from __future__ import annotations

import json
import os

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect

from krov.accounts import roles
from krov.accounts import services as account_services
from krov.aid import services
from krov.aid.models import Skill
from krov.core import sealing
from tests.browser.conftest import CHROMIUM
from tests.browser.test_sealed_flow import PASSPHRASE, confirm_it_is_me, make_key

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]

REQUEST = "Маркер-61: треба ліки для батька."


def open_recovery_file(page, path, passphrase: str) -> None:
    expect(page.locator("[data-when=import]")).to_be_visible()
    page.set_input_files("#import-file", str(path))
    page.fill("#import-pass", passphrase)
    page.click("button:has-text('Open my recovery file')")


@pytest.mark.django_db(transaction=True)
def test_a_coordinator_who_lost_their_browser_reads_again_with_the_recovery_file(
    live_server, browser_page, new_browser_page, personas, tmp_path
):
    coordinator = personas[roles.COORDINATOR].user
    if not account_services.has_mfa(coordinator):
        TOTP.activate(coordinator, generate_totp_secret())
    base = live_server.url

    # The coordinator makes their key and the team key; a request arrives, sealed.
    first = new_browser_page(coordinator)
    recovery = make_key(first, base, coordinator)
    first.click("button:has-text('Make the team key')")
    expect(first.locator("#keys-status")).to_contain_text("The team key is made")
    case = services.submit_request(
        channel="web", language="uk", skill=Skill.objects.get(slug="driving"), description=REQUEST
    ).request
    assert case.is_sealed
    recovery_path = tmp_path / "krov-key.json"
    recovery_path.write_text(json.dumps(recovery))

    # Their browser is lost: a new one holds no key, and the case does not open.
    second = new_browser_page(coordinator)
    confirm_it_is_me(second, coordinator)
    second.goto(f"{base}/en/aid/keys/")
    expect(second.locator("#keys-page")).to_have_attribute("data-ready", "1")

    # A wrong passphrase: a message, no key.
    open_recovery_file(second, recovery_path, "not the passphrase at all")
    expect(second.locator("#keys-status")).to_contain_text("This passphrase does not open")
    expect(second.locator("#keys-page")).not_to_have_attribute("data-state", "ready")

    # Not a recovery file at all: a message, no key.
    photo = tmp_path / "holiday.json"
    photo.write_text("not json at all")
    open_recovery_file(second, photo, PASSPHRASE)
    expect(second.locator("#keys-status")).to_contain_text("not a Krov recovery file")
    expect(second.locator("#keys-page")).not_to_have_attribute("data-state", "ready")

    # Another key's recovery file (right passphrase): refused, no key.
    other_path = tmp_path / "someone-else.json"
    other_path.write_text(
        json.dumps(sealing.lock_key(sealing.KeyPair.generate().private, PASSPHRASE))
    )
    open_recovery_file(second, other_path, PASSPHRASE)
    expect(second.locator("#keys-status")).to_contain_text("holds another key")
    expect(second.locator("#keys-page")).not_to_have_attribute("data-state", "ready")

    # Their own file and passphrase: the key is back, and the case opens in this browser.
    open_recovery_file(second, recovery_path, PASSPHRASE)
    expect(second.locator("#keys-page")).to_have_attribute("data-state", "ready")
    second.goto(f"{base}/en/aid/cases/{case.public_id}/")
    expect(second.locator(".request-text")).to_contain_text(REQUEST)
    assert second.csp_violations == []

"""A real browser (Debian's Chromium via Playwright) signs in, sets up TOTP and arrives."""

from __future__ import annotations

import os
import re
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM
from tests.conftest import PASSWORD, make_persona

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.mark.django_db(transaction=True)
def test_volunteer_signs_in_sets_up_totp_and_reaches_dashboard(live_server, browser_page):
    persona = make_persona("volunteer", with_mfa=False)
    page = browser_page

    page.goto(f"{live_server.url}/en/accounts/login/")
    page.fill("input[name=login]", persona.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")

    # The volunteer role needs MFA: Krov sends them to set it up (allauth asks for the
    # password once more before a security change).
    page.wait_for_url("**/accounts/**")
    if "/reauthenticate/" in page.url:
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
    page.wait_for_url("**/2fa/totp/activate/")
    assert "two-factor" in page.content().lower()

    secret = page.input_value("#authenticator_secret")
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    page.fill("input[name=code]", code)
    page.click("main button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/totp/activate/"))  # the activation went through

    page.goto(f"{live_server.url}/en/dashboard/")
    assert page.url.endswith("/en/dashboard/")
    assert page.locator("h1").inner_text() == f"Hello, {persona.user.pseudonym}"
    assert "Two-factor authentication is on." in page.content()
    assert page.csp_violations == []

"""The newsroom in Chromium: an editor writes in Serbian Latin, a second editor approves,
the bulletin appears in Cyrillic at /sr/ and in Latin at /sr-latn/."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from krov.accounts import services as account_services
from tests.browser.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.mark.django_db(transaction=True)
def test_write_approve_publish(live_server, browser_page, new_browser_page, personas):
    editor = personas["editor"].user
    second = account_services.create_account(
        email="e2@example.org", pseudonym="Drugo", password=None, roles=["editor"]
    )
    writer = new_browser_page(editor)
    writer.goto(f"{live_server.url}/en/bulletins/editor/")
    writer.select_option("select[name=language]", "sr-latn")
    writer.fill("input[name=title]", "Veče solidarnosti")
    writer.fill("textarea[name=body]", "Dođite u **subotu**.")
    writer.fill("input[name=tags]", "solidarnost")
    writer.click("form.stack button[type=submit]")
    writer.wait_for_url("**/bulletins/editor/*/**")
    writer.click("button:has-text('Submit for review')")
    expect(writer.locator(".post-status")).to_have_text("In review")  # waits for the new page
    assert writer.locator("form.approve-form").count() == 0  # not their own
    url = writer.url.split("?")[0]

    approver = new_browser_page(second)
    approver.goto(url)
    approver.click("form.approve-form button[type=submit]")
    expect(approver.locator(".post-status")).to_have_text("Published")

    reader = browser_page
    slug = url.rstrip("/").rsplit("/", 1)[-1]
    reader.goto(f"{live_server.url}/sr/bulletins/{slug}/")
    assert reader.locator("h1").inner_text() == "Вече солидарности"
    reader.goto(f"{live_server.url}/sr-latn/bulletins/{slug}/")
    assert reader.locator("h1").inner_text() == "Veče solidarnosti"
    assert reader.locator(".body strong").inner_text() == "subotu"
    for page in (writer, approver, reader):
        assert page.csp_violations == []

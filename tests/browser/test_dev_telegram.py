"""/dev/telegram in Chromium: a simulated Telegram user goes through the whole dialogue,
a volunteer answers in the web console, and the answer arrives in the simulated chat."""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection

from krov.aid import services
from krov.aid.models import HelpRequest
from krov.telegram.fake import FakeBotAPI
from tests.browser.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.mark.django_db(transaction=True)
def test_dev_telegram_dialogue_to_an_answer(
    live_server, browser_page, settings, make_volunteer, coordinator
):
    api = FakeBotAPI().start()
    settings.DEBUG = True
    settings.TELEGRAM_BOT_TOKEN = api.token
    settings.TELEGRAM_API_BASE_URL = api.base_url
    settings.TELEGRAM_WEBHOOK_SECRET = "dev-secret"  # noqa: S105 - test value
    settings.KROV_TELEGRAM_CHAT_SPACING_MS = 0
    try:
        page = browser_page
        page.goto(f"{live_server.url}/dev/telegram")
        page.fill("#dev-text", "/start")
        page.click("form.stack button[type=submit]")
        page.click("#dev-messages button:has-text('Українська')")
        page.locator("#dev-messages button", has_text="Навчання водінню").click()
        page.fill("#dev-text", "Навчіть мене водити, будь ласка")
        page.click("form.stack button[type=submit]")
        # Wait on the condition (the update went through the webhook and the dialogue),
        # never on the click: the request exists only once the server has processed it.
        case = None
        for _attempt in range(300):
            case = HelpRequest.objects.first()
            if case is not None:
                break
            page.wait_for_timeout(100)
        assert case is not None, "the request never arrived"
        page.locator("#dev-messages", has_text=case.code).wait_for()

        volunteer = make_volunteer("Veter")

        def answer_from_the_console():
            # Another thread, as the web console would be: Playwright's loop owns this one.
            services.assign(case, volunteer, actor=coordinator)
            services.post_reply(case, actor=volunteer.user, body="Вітаю! Коли вам зручно?")
            connection.close()

        worker = threading.Thread(target=answer_from_the_console)
        worker.start()
        worker.join(timeout=30)
        page.locator("#dev-messages", has_text="Вітаю! Коли вам зручно?").wait_for(timeout=10_000)
        assert "Veter" not in page.locator("#dev-messages").inner_text()
        assert page.csp_violations == []
    finally:
        api.stop()


@pytest.mark.django_db
def test_dev_telegram_is_not_there_in_production(client, settings):
    settings.DEBUG = False
    assert client.get("/dev/telegram").status_code == 404
    assert client.get("/dev/telegram/messages").status_code == 404

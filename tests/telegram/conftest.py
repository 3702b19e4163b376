"""Telegram tests talk HTTP: the live server's webhook in, the fake Bot API out."""

from __future__ import annotations

import copy
import itertools
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from krov.telegram.fake import FakeBotAPI

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "webhook-secret-for-tests"  # noqa: S105 - test value
_ids = itertools.count(910000000)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def fake_api(settings):
    api = FakeBotAPI().start()
    settings.TELEGRAM_BOT_TOKEN = api.token
    settings.TELEGRAM_API_BASE_URL = api.base_url
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.KROV_TELEGRAM_CHAT_SPACING_MS = 0
    yield api
    api.stop()


def post(url: str, body: bytes | dict, *, secret: str | None = SECRET) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"{}")


class TelegramUser:
    """A person in a private chat with the bot, speaking the real Update format."""

    def __init__(self, webhook_url: str, fake: FakeBotAPI, chat_id: int):
        self.url, self.fake, self.chat_id = webhook_url, fake, chat_id

    def _send(self, update: dict) -> tuple[int, dict]:
        return post(self.url, update)

    def say(self, text: str, *, reply_to: int | None = None, update_id: int | None = None):
        update = copy.deepcopy(fixture("message_start"))
        update["update_id"] = update_id or next(_ids)
        message = update["message"]
        message["message_id"] = next(_ids) % 100000
        message["chat"]["id"] = message["from"]["id"] = self.chat_id
        message["text"] = text
        message.pop("entities", None)
        if reply_to is not None:
            message["reply_to_message"] = {
                "message_id": reply_to,
                "date": message["date"],
                "chat": message["chat"],
                "from": {"id": 7000000001, "is_bot": True, "first_name": "Roof helper"},
                "text": "…",
            }
        return self._send(update)

    def press(self, data: str, *, update_id: int | None = None):
        update = copy.deepcopy(fixture("callback_language"))
        update["update_id"] = update_id or next(_ids)
        query = update["callback_query"]
        query["id"] = str(next(_ids))
        query["from"]["id"] = query["message"]["chat"]["id"] = self.chat_id
        query["data"] = data
        return self._send(update)

    def inbox(self) -> list[dict]:
        return self.fake.sent_to(self.chat_id)

    def last_text(self) -> str:
        messages = self.inbox()
        return (messages[-1].get("text") or messages[-1].get("caption") or "") if messages else ""

    def buttons(self) -> list[str]:
        for message in reversed(self.inbox()):
            markup = message.get("reply_markup")
            if markup:
                return [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
        return []


@pytest.fixture
def webhook_url(live_server) -> str:
    return f"{live_server.url}/telegram/webhook"


@pytest.fixture
def telegram_user(webhook_url, fake_api):
    def _user(chat_id: int = 555000111) -> TelegramUser:
        return TelegramUser(webhook_url, fake_api, chat_id)

    return _user

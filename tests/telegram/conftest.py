"""Telegram tests post Telegram's updates to the webhook in process, through Django's test
client (as Zulip's WebhookTestCase posts its fixtures), inside a transaction that is rolled
back after each test; the bot's answers go out over HTTP to a fake Bot API, one server for
all of them. A test marked `END_TO_END` posts over real HTTP to the live server instead
(`live_telegram_user`, `live_webhook`) and commits for real."""

from __future__ import annotations

import copy
import itertools
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test import Client

from krov.telegram.fake import FakeBotAPI

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "webhook-secret-for-tests"  # noqa: S105 - test value
WEBHOOK_PATH = "/telegram/webhook"
# Real HTTP in, real commits: for the one or two paths that need the whole wire.
END_TO_END = pytest.mark.django_db(transaction=True)
_ids = itertools.count(910000000)
log = logging.getLogger(__name__)

# Posts one webhook body, as Telegram does; answers (HTTP status, JSON body).
Webhook = Callable[..., tuple[int, dict]]


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


# --- after commit, as in production --------------------------------------------------------


def _run_hook(func: Callable[[], object], robust: bool) -> None:
    """Run one on_commit callback as Django's run_and_clear_commit_hooks does."""
    if not robust:
        func()
        return
    try:
        func()
    except Exception:
        log.exception("on_commit callback %s failed", getattr(func, "__qualname__", func))


@pytest.fixture(autouse=True)
def on_commit_as_in_production(db):
    """Run `transaction.on_commit` callbacks when production would, although the test runs
    inside a transaction that is rolled back afterwards (pytest-django's `db`).

    Production runs in autocommit: a callback registered outside any `atomic()` block runs
    at once, one registered inside runs when the outermost block commits, and one inside a
    block that rolls back never runs. Here the test's own transaction (Django's TestCase
    atomics, `_from_testcase`) is made invisible to that rule: callbacks registered outside
    the code's own blocks run at once, and those of the code's outermost block run when it
    exits cleanly, like `captureOnCommitCallbacks(execute=True)` run right at that commit.
    Callbacks queued by callbacks follow the same rule, so the webhook's nudge processes the
    update, and the answer it queues is sent, before the test client gets its 200.

    A per-call `captureOnCommitCallbacks` would not do: services called by the persona and
    aid fixtures queue work on commit too (notifications, offers to the next volunteer), and
    a callback silently dropped would let a test that asserts "nothing arrives" pass
    without proving it. So every callback runs, and a test that leaves one unrun fails.

    Inert in END_TO_END tests: they commit for real."""
    connection = connections[DEFAULT_DB_ALIAS]
    if not connection.in_atomic_block:  # a transactional test: nothing to emulate
        yield
        return

    def only_the_tests_blocks() -> bool:
        return all(block._from_testcase for block in connection.atomic_blocks)

    register = connection.on_commit

    def on_commit(func, robust=False):
        if only_the_tests_blocks():
            _run_hook(func, robust)  # autocommit in production: runs now
        else:
            register(func, robust)

    exit_block = transaction.Atomic.__exit__

    def exit_and_run_hooks(block, exc_type, exc_value, traceback):
        suppressed = exit_block(block, exc_type, exc_value, traceback)
        committed = exc_type is None and not connection.needs_rollback
        if (
            transaction.get_connection(block.using) is connection
            and not block._from_testcase
            and only_the_tests_blocks()
            and committed
        ):
            # The code's outermost block committed: what is left was queued inside it
            # (callbacks of blocks rolled back inside it were dropped by Django already).
            hooks, connection.run_on_commit = connection.run_on_commit, []
            for _savepoints, func, robust in hooks:
                _run_hook(func, robust)
        return suppressed

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection, "on_commit", on_commit)
        patch.setattr(transaction.Atomic, "__exit__", exit_and_run_hooks)
        yield
    unrun = [func for _savepoints, func, _robust in connection.run_on_commit]
    assert not unrun, f"on_commit callbacks were never run: {unrun}"


# --- the Bot API: a fake one over HTTP ---------------------------------------------------


@pytest.fixture(scope="package", autouse=True)
def _one_tls_context():
    """httpx loads certifi's CA bundle for every client it builds (some 20 ms; krov's
    Client builds two for each batch it sends), though the fake Bot API speaks plain HTTP on
    127.0.0.1. These tests load that default context once and share it; any other
    verification setting still gets its own."""
    from httpx._transports import default as transports

    create = transports.create_ssl_context
    shared = create()

    def create_once(verify=True, cert=None, trust_env=True):
        if verify is True and cert is None and trust_env:
            return shared
        return create(verify=verify, cert=cert, trust_env=trust_env)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transports, "create_ssl_context", create_once)
        yield


@pytest.fixture(scope="package")
def _fake_bot_api():
    """One server for these tests, reset for each: stopping one waits out its half-second
    poll, which was most of what every test cost."""
    api = FakeBotAPI().start()
    yield api
    api.stop()


@pytest.fixture
def fake_api(_fake_bot_api, settings):
    api = _fake_bot_api
    with api.state.lock:  # forget the previous test's calls, chats and planned failures
        api.state.calls.clear()
        api.state.chats.clear()
        api.state.failures.clear()
        api.state.webhook = {}
    settings.TELEGRAM_BOT_TOKEN = api.token
    settings.TELEGRAM_API_BASE_URL = api.base_url
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.KROV_TELEGRAM_CHAT_SPACING_MS = 0
    return api


# --- the webhook: in process, or over HTTP -------------------------------------------------


def _as_bytes(body: bytes | dict) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def _make_reply_call(fake: FakeBotAPI, reply: dict) -> None:
    """What Telegram does with a webhook reply that names a method: it makes that call."""
    if not isinstance(reply.get("method"), str):
        return
    params = {key: value for key, value in reply.items() if key != "method"}
    request = urllib.request.Request(  # noqa: S310 - the fake Bot API on 127.0.0.1
        f"{fake.base_url}/bot{fake.token}/{reply['method']}",
        data=json.dumps(params).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        answer.read()


@pytest.fixture
def webhook(fake_api) -> Webhook:
    """POST a body to the webhook through Django's test client, as Telegram would."""
    client = Client()

    def _post(body: bytes | dict, *, secret: str | None = SECRET) -> tuple[int, dict]:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        answer = client.post(
            WEBHOOK_PATH, _as_bytes(body), content_type="application/json", headers=headers
        )
        reply = json.loads(answer.content or b"{}")
        if answer.status_code == 200:
            _make_reply_call(fake_api, reply)
        return answer.status_code, reply

    return _post


@pytest.fixture
def live_webhook(live_server, fake_api) -> Webhook:
    """POST a body to the live server's webhook over real HTTP (END_TO_END tests)."""
    url = f"{live_server.url}{WEBHOOK_PATH}"

    def _post(body: bytes | dict, *, secret: str | None = SECRET) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(  # noqa: S310 - the live server on 127.0.0.1
            url, data=_as_bytes(body), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                reply = json.loads(answer.read() or b"{}")
                _make_reply_call(fake_api, reply)
                return answer.status, reply
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read() or b"{}")

    return _post


class TelegramUser:
    """A person in a private chat with the bot, speaking the real Update format."""

    def __init__(self, post: Webhook, fake: FakeBotAPI, chat_id: int):
        self.post, self.fake, self.chat_id = post, fake, chat_id

    def _send(self, update: dict) -> tuple[int, dict]:
        return self.post(update)

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
def telegram_user(webhook, fake_api):
    def _user(chat_id: int = 555000111) -> TelegramUser:
        return TelegramUser(webhook, fake_api, chat_id)

    return _user


@pytest.fixture
def live_telegram_user(live_webhook, fake_api):
    def _user(chat_id: int = 555000111) -> TelegramUser:
        return TelegramUser(live_webhook, fake_api, chat_id)

    return _user


@pytest.fixture
def team(coordinator):
    """The coordinators' team key, made in the coordinator's (simulated) browser: from here
    on, what requesters write is sealed."""
    from tests.aid.test_sealed_cases import make_team

    return make_team(coordinator)

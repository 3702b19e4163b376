"""bin/deploy-check's reading of the outbox crash (issue 19, scenario 3), and its fake Bot
API's timeline: what counts as lost, doubled, reordered, or over Telegram's limits. The
check itself runs the real topology (make deploy-check); these tests pin its arithmetic."""

from __future__ import annotations

import http.client
import importlib.machinery
import importlib.util
import json
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load(name: str, path: Path) -> ModuleType:
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def check() -> ModuleType:
    return load("deploy_check", ROOT / "bin" / "deploy-check")


def timeline_of(check, sends: list[tuple[float, int, int]]) -> list:
    """[time, method, chat_id, text] records for (time, chat index, message number)."""
    return [
        [at, "sendMessage", str(1000 + chat), check.OUTBOX_TEXT.format(chat=chat, n=n)]
        for at, chat, n in sends
    ]


def figures(check, sends, *, chats=2, per_chat=3):
    return check.outbox_figures(
        timeline_of(check, sends), chats=chats, per_chat=per_chat, first_chat=1000
    )


def test_every_message_once_in_order_within_the_limits_is_clean(check):
    sends = [(n * 1.0 + chat * 0.1, chat, n) for n in range(3) for chat in range(2)]
    seen = figures(check, sends)
    assert seen == {
        "delivered": 6,
        "lost": 0,
        "doubled": 0,
        "reordered_chats": 0,
        "most_per_second": 2,
        "shortest_chat_gap": pytest.approx(1.0),
    }


def test_a_message_that_never_arrived_is_lost(check):
    sends = [(n * 1.0, 0, n) for n in range(3)] + [(0.5, 1, 0), (1.5, 1, 2)]
    seen = figures(check, sends)
    assert seen["lost"] == 1 and seen["delivered"] == 5


def test_a_message_sent_again_after_a_crash_is_doubled_not_reordered(check):
    # Chat 0's #1 went out, the worker died before it could note that, and #1 went again
    # after #2: the chat saw 0, 1, 2, 1 - one double, the first arrivals in order.
    sends = [(0.0, 0, 0), (1.0, 0, 1), (2.0, 0, 2), (63.0, 0, 1)]
    sends += [(n * 1.0 + 0.5, 1, n) for n in range(3)]
    seen = figures(check, sends)
    assert seen["doubled"] == 1
    assert seen["reordered_chats"] == 0
    assert seen["lost"] == 0


def test_a_message_held_by_a_crash_and_sent_after_its_successors_changes_the_order(check):
    sends = [(0.0, 0, 0), (2.0, 0, 2), (61.0, 0, 1)]
    sends += [(n * 1.0 + 0.5, 1, n) for n in range(3)]
    seen = figures(check, sends)
    assert seen["reordered_chats"] == 1
    assert seen["lost"] == 0 and seen["doubled"] == 0


def test_thirty_one_messages_within_one_second_break_the_overall_limit(check):
    sends = [(i / 31, i, 0) for i in range(31)]
    seen = figures(check, sends, chats=31, per_chat=1)
    assert seen["most_per_second"] == 31


def test_a_steady_stream_under_thirty_a_second_keeps_the_overall_limit(check):
    sends = [(i * 0.034, i, 0) for i in range(60)]  # 29.4 a second
    seen = figures(check, sends, chats=60, per_chat=1)
    assert seen["most_per_second"] == 30


def test_two_messages_to_one_chat_closer_than_a_second_break_the_chat_limit(check):
    sends = [(0.0, 0, 0), (0.4, 0, 1), (1.4, 0, 2)]
    seen = figures(check, sends, chats=1)
    assert seen["shortest_chat_gap"] == pytest.approx(0.4)


def test_messages_to_other_chats_and_before_the_queueing_count_as_the_check_says(check):
    timeline = timeline_of(check, [(10.0, 0, 0)])
    timeline.append([9.5, "sendMessage", "42", "a /start answer"])
    timeline.append([2.0, "sendMessage", "43", "long before"])
    timeline.append([10.2, "answerCallbackQuery", "", ""])
    seen = check.outbox_figures(timeline, chats=1, per_chat=1, first_chat=1000, since=5.0)
    # Another chat's message in the same second counts against the overall limit; a call
    # that sends no message does not, nor does one before `since`.
    assert seen["most_per_second"] == 2
    assert seen["delivered"] == 1 and seen["lost"] == 0


def test_the_fake_bot_api_records_each_call_with_its_arrival_time(monkeypatch):
    fake_module = load("deploy_check_telegram_fake", ROOT / "bin" / "deploy-check-telegram-fake")
    api = fake_module.timed_server("123:fake", 0).start()
    try:
        host, port = api.server.server_address[:2]
        connection = http.client.HTTPConnection(host, port, timeout=5)
        body = json.dumps({"chat_id": 77, "text": "hello"})
        connection.request(
            "POST", "/bot123:fake/sendMessage", body, {"Content-Type": "application/json"}
        )
        assert connection.getresponse().read()
        connection.request("GET", "/_fake/timeline")
        timeline = json.loads(connection.getresponse().read())
        connection.request("GET", "/_fake/chats/77")
        kept = json.loads(connection.getresponse().read())
        connection.close()
    finally:
        api.stop()
    assert len(timeline) == 1
    at, method, chat, text = timeline[0]
    assert (method, chat, text) == ("sendMessage", "77", "hello")
    assert isinstance(at, float)
    assert [message["text"] for message in kept] == ["hello"]


def test_the_fake_holds_the_call_carrying_a_text_until_released():
    fake_module = load("deploy_check_telegram_fake", ROOT / "bin" / "deploy-check-telegram-fake")
    api = fake_module.timed_server("123:fake", 0).start()
    host, port = api.server.server_address[:2]

    def call(method: str, path: str, body: dict | None = None):
        connection = http.client.HTTPConnection(host, port, timeout=10)
        try:
            data = json.dumps(body) if body is not None else None
            connection.request(method, path, data, {"Content-Type": "application/json"})
            return json.loads(connection.getresponse().read())
        finally:
            connection.close()

    answers: list = []
    try:
        call("POST", "/_fake/hold", {"text": "wait for me"})
        sender = threading.Thread(
            target=lambda: answers.append(
                call("POST", "/bot123:fake/sendMessage", {"chat_id": 5, "text": "wait for me"})
            )
        )
        sender.start()
        deadline = time.monotonic() + 10
        while not call("GET", "/_fake/held")["held"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert call("GET", "/_fake/held") == {"held": True}
        # Arrived (in the timeline), not answered, not yet in the chat.
        assert [record[3] for record in call("GET", "/_fake/timeline")] == ["wait for me"]
        assert call("GET", "/_fake/chats/5") == [] and answers == []
        call("POST", "/_fake/release", {})
        sender.join(10)
        assert answers and answers[0]["ok"] is True
        assert [m["text"] for m in call("GET", "/_fake/chats/5")] == ["wait for me"]
        assert call("GET", "/_fake/held") == {"held": False}
        # Only the next call with that text was held: the same text again goes through.
        assert call("POST", "/bot123:fake/sendMessage", {"chat_id": 5, "text": "wait for me"})["ok"]
    finally:
        api.stop()

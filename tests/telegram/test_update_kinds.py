"""Every kind of update Telegram sends, in its real format (tests/telegram/fixtures/kinds),
posted through the webhook into a chat whose request is open: what a requester sends
reaches their case, with the server's keys and with sealed cases alike; what is not a
requester's message is acknowledged and changes nothing."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from django.utils.translation import gettext as _
from django.utils.translation import override

from krov.aid.models import HelpRequest, Message
from krov.telegram.models import Outbound, Update
from tests.telegram.test_dialogue import run_dialogue

pytestmark = pytest.mark.django_db

KINDS = Path(__file__).parent / "fixtures" / "kinds"


_update_ids = itertools.count(960000000)


def kind(name: str, chat_id: int) -> dict:
    """The fixture, its private chat and sender made this test's requester, with an update
    id no other update of the test has (a repeated id is acknowledged and not processed)."""
    update = json.loads((KINDS / f"{name}.json").read_text(encoding="utf-8"))
    update["update_id"] = next(_update_ids)
    for part in ("message", "edited_message", "callback_query"):
        obj = update.get(part)
        if not isinstance(obj, dict):
            continue
        obj["from"]["id"] = chat_id
        holder = obj["message"] if part == "callback_query" else obj
        if holder["chat"]["type"] == "private":
            holder["chat"]["id"] = chat_id
    return update


def uk(text: str) -> str:
    with override("uk"):
        return _(text)


LONG = json.loads((KINDS / "message_long_entities.json").read_text(encoding="utf-8"))["message"][
    "text"
]

# What reaches the case: (what the body holds, the attachment kind or "").
JOINS_THE_CASE = {
    "message_voice": (lambda: uk("[voice message]"), "voice"),
    "message_document": (lambda: "Маркер-кінд: довідка з лікарні", "document"),
    "message_contact": (lambda: "+380501234567", ""),
    "message_location": (lambda: "46.755", ""),
    "edited_message": (lambda: "✎ Маркер-кінд: не в Бердянську, а в Приморську", ""),
    "message_forwarded": (lambda: "Маркер-кінд: переслане від брата", ""),
    "message_reply": (lambda: "Маркер-кінд: відповідь на повідомлення бота", ""),
    # A sticker says something without words (thanks, fear): the case shows its emoji.
    "message_sticker": (lambda: uk("[sticker: %(emoji)s]") % {"emoji": "🙏"}, ""),
    "message_long_entities": (lambda: LONG.strip(), ""),
}


@pytest.fixture(params=[False, True], ids=["field-keys", "sealed"])
def requester(request, telegram_user):
    """A requester on Telegram with an open request; `read(field, value)` opens a stored
    body or attachment reference (sealed to the case key, or under the field keys)."""
    team = request.getfixturevalue("team") if request.param else None
    user = telegram_user()
    case = run_dialogue(user)

    def read(field: str, value: str) -> str:
        return team.read(case, field, value) if team else value

    return user, case, read


@pytest.mark.parametrize("name", sorted(JOINS_THE_CASE))
def test_what_a_requester_sends_reaches_their_open_case(requester, name):
    user, case, read = requester
    before = case.messages.count()
    update = kind(name, user.chat_id)
    assert user.post(update) == (200, {"ok": True})
    stored = Update.objects.get(update_id=update["update_id"])
    assert (stored.status, stored.error) == (Update.Status.DONE, "")
    assert case.messages.count() == before + 1
    arrived = case.messages.filter(direction="in").order_by("pk").last()
    expected, attachment = JOINS_THE_CASE[name]
    body = read("message", arrived.body)
    assert body == expected() if name == "message_long_entities" else expected() in body
    if attachment:
        assert read("message.attachment", arrived.attachment_ref).startswith(attachment + ":")


def test_a_poll_joins_a_sealed_case_and_is_answered_before_sealing(requester):
    """Sealed at the webhook, a poll is written out as its question; before the team key
    exists (python-telegram-bot's Poll changes with every Bot API), the requester is asked
    to write instead: either way it is never silently dropped."""
    user, case, read = requester
    before, sent = case.messages.count(), len(user.inbox())
    update = kind("message_poll", user.chat_id)
    assert user.post(update) == (200, {"ok": True})
    assert Update.objects.get(update_id=update["update_id"]).status == Update.Status.DONE
    if case.is_sealed:
        arrived = case.messages.filter(direction="in").order_by("pk").last()
        question = "Маркер-кінд: коли вам зручно?"
        assert read("message", arrived.body) == uk("[poll: %(question)s]") % {"question": question}
    else:
        assert case.messages.count() == before
        assert len(user.inbox()) == sent + 1


def test_a_button_press_is_answered_and_leaves_the_case_as_it_was(requester, fake_api):
    user, case, _read = requester
    before = case.messages.count()
    update = kind("callback_query", user.chat_id)
    status, reply = user.post(update)
    # Answered in the webhook's own reply: the press's id is never stored or queued.
    assert status == 200 and reply["method"] == "answerCallbackQuery"
    assert reply["callback_query_id"] == update["callback_query"]["id"]
    assert "answerCallbackQuery" in [method for method, _params in fake_api.calls]
    assert update["callback_query"]["id"] not in repr(
        list(Outbound.objects.values_list("params", flat=True))
    )
    assert case.messages.count() == before
    case.refresh_from_db()
    assert case.is_open


@pytest.mark.parametrize("name", ["my_chat_member", "channel_post", "group_message"])
def test_what_is_no_requesters_message_is_acknowledged_and_changes_nothing(
    requester, fake_api, name
):
    user, case, _read = requester
    before = (case.messages.count(), len(fake_api.calls))
    update = kind(name, user.chat_id)
    assert user.post(update) == (200, {"ok": True})
    assert Update.objects.filter(update_id=update["update_id"]).exists()
    assert (case.messages.count(), len(fake_api.calls)) == before
    # Nothing it carried is kept: no text, no names.
    stored = Update.objects.get(update_id=update["update_id"])
    assert "Маркер-кінд" not in stored.payload and "Olena" not in stored.payload


def test_an_edit_while_no_request_is_open_starts_nothing(telegram_user, fake_api):
    """An edit while choosing the kind of help is not a description: no request is made,
    the chat stays where it was, and the bot says nothing."""
    from krov.telegram.models import Chat

    user = telegram_user()
    user.say("/start")
    user.press("lang:uk")
    sent = len(fake_api.calls)
    update = kind("edited_message", user.chat_id)
    assert user.post(update) == (200, {"ok": True})
    assert Update.objects.get(update_id=update["update_id"]).status == Update.Status.DONE
    assert not HelpRequest.objects.exists()
    assert Chat.objects.get().state == Chat.State.CATEGORY
    assert len(fake_api.calls) == sent


def test_a_volunteer_is_told_an_edited_answer_does_not_reach_the_requester(
    telegram_user, make_volunteer
):
    from tests.telegram.test_volunteers import linked_volunteer

    _volunteer, helper = linked_volunteer(telegram_user, make_volunteer)
    update = kind("edited_message", helper.chat_id)
    update["edited_message"]["reply_to_message"] = {
        "message_id": 5,
        "from": {"id": 7000000001, "is_bot": True, "first_name": "Roof helper"},
        "chat": {"id": helper.chat_id, "type": "private"},
        "date": 1764072100,
        "text": "Нове повідомлення",
    }
    assert helper.post(update) == (200, {"ok": True})
    assert "new reply" in helper.last_text() or "нов" in helper.last_text().lower()
    assert not Message.objects.exists()

"""Sealed Telegram cases: once the coordinators have a team key, what a requester writes to
the bot is sealed at the webhook, before the update is stored, to the key of their case (or
of the case to come); the coordinators read it with the team key; the web answer still
reaches the requester's Telegram."""

from __future__ import annotations

import contextlib
import copy
import json

import pytest

from krov.aid import services as aid
from krov.aid.models import HelpRequest, Message, PendingCaseKey
from krov.core import sealing
from krov.telegram.models import Chat, Update
from tests.aid.test_sealed_cases import make_team
from tests.telegram.conftest import fixture

pytestmark = pytest.mark.django_db

DESCRIPTION = "Маркер-71: мама в Бердянську, треба виїхати через Василівку."


def stored_payloads() -> str:
    """Every update as the database holds it (opened with the field keys)."""
    return json.dumps([u.payload for u in Update.objects.all()], ensure_ascii=False)


def describe(user, text=DESCRIPTION):
    user.say("/start")
    user.press("lang:uk")
    user.press("cat:driving")
    user.say(text)
    return HelpRequest.objects.get(channel="telegram")


def test_a_telegram_request_is_sealed_at_the_webhook_and_opens_with_the_team_key(
    telegram_user, team, settings
):
    user = telegram_user()
    # Look at what the webhook stores before the worker runs.
    seen = []
    from krov.telegram import intake

    original = intake.store

    def watching(data):
        stored = original(data)
        seen.append(stored_payloads())
        return stored

    intake.store = watching
    try:
        case = describe(user)
    finally:
        intake.store = original
    assert len(seen) == 4, "the webhook's writes were not watched"
    assert not any("Маркер-71" in payloads for payloads in seen)
    assert case.is_sealed and sealing.is_sealed(case.description)
    assert team.read(case, "request.description", case.description) == DESCRIPTION
    assert case.code in user.last_text()  # the dialogue went on as before
    # The relay still reaches them: through the workers' keys, or with the case's key.
    assert team.read(case, "request.contact", case.contact_handle) == str(user.chat_id)
    assert not PendingCaseKey.objects.exists()  # the case took its key over


def test_later_messages_and_photos_are_sealed_to_the_case(telegram_user, team):
    user = telegram_user()
    case = describe(user)
    user.say("Маркер-72: ми вже в Запоріжжі")
    photo = copy.deepcopy(fixture("message_photo"))
    photo["message"]["chat"]["id"] = photo["message"]["from"]["id"] = user.chat_id
    photo["message"]["caption"] = "Маркер-73: документ"
    photo["update_id"] = 987654321
    user.post(photo)
    messages = list(Message.objects.filter(request=case, direction="in"))
    assert len(messages) == 2
    assert team.read(case, "message", messages[0].body) == "Маркер-72: ми вже в Запоріжжі"
    assert team.read(case, "message", messages[1].body) == "Маркер-73: документ"
    assert team.read(case, "message.attachment", messages[1].attachment_ref).startswith("photo:")
    assert "Маркер" not in stored_payloads()


def test_names_and_usernames_are_not_stored(telegram_user, team):
    user = telegram_user()
    update = copy.deepcopy(fixture("message_start"))
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = user.chat_id
    update["message"]["text"] = "hello"
    update["message"]["from"]["first_name"] = "Olena"
    update["message"]["from"]["username"] = "olena_k"
    from krov.telegram import intake

    intake.store(update)
    payload = Update.objects.get(update_id=update["update_id"]).payload
    assert "Olena" not in payload and "olena_k" not in payload and "hello" not in payload


def test_a_text_over_the_limit_is_refused_without_being_stored(telegram_user, team, settings):
    settings.KROV_AID_MAX_TEXT = 50
    user = telegram_user()
    user.say("/start")
    user.press("lang:uk")
    user.press("cat:driving")
    user.say("Маркер-74 " + "x" * 80)
    assert not HelpRequest.objects.exists()
    assert "50" in user.last_text()
    assert "Маркер-74" not in stored_payloads()


def test_the_web_answer_reaches_the_requesters_telegram(
    telegram_user, team, make_volunteer, coordinator
):
    user = telegram_user()
    case = describe(user)
    volunteer = make_volunteer("Veter")
    aid.assign(case, volunteer, actor=coordinator)
    aid.post_reply(case, actor=volunteer.user, body="Маркер-75: я допоможу")
    assert "Маркер-75: я допоможу" in user.last_text()
    reply = Message.objects.get(request=case, direction="out")
    assert sealing.is_sealed(reply.body)


def write_before_the_category(user, text: str) -> None:
    """A requester writes before choosing a category: sealed to a key made for the case to
    come."""
    user.say("/start")
    user.press("lang:uk")
    user.say(text)
    assert PendingCaseKey.objects.count() == 1


def test_forget_deletes_the_key_made_for_the_case_to_come(telegram_user, team):
    user = telegram_user()
    write_before_the_category(user, "something before choosing a category")
    user.say("/forget")
    user.press("forget:yes")
    assert not PendingCaseKey.objects.exists() and not Chat.objects.exists()


def test_an_open_case_from_before_sealing_is_sealed_by_its_next_message(telegram_user, coordinator):
    user = telegram_user()
    case = describe(user)
    assert not case.is_sealed
    browser = make_team(coordinator)
    user.say("Маркер-76 after the team key")
    case.refresh_from_db()
    assert case.is_sealed
    assert browser.read(case, "request.description", case.description) == DESCRIPTION
    last = Message.objects.filter(request=case, direction="in").last()
    assert browser.read(case, "message", last.body) == "Маркер-76 after the team key"


def test_a_renewal_carries_the_key_of_the_case_to_come(telegram_user, team):
    from tests.aid.test_sealed_cases import rotate

    user = telegram_user()
    write_before_the_category(user, "a word before the category")
    rotate(team)  # the team key is renewed before the request is described
    user.press("cat:driving")
    user.say(DESCRIPTION)
    case = HelpRequest.objects.get(channel="telegram")
    assert team.read(case, "request.description", case.description) == DESCRIPTION


# --- volunteers who read their cases in Telegram ---------------------------------------------


def raw_outbox() -> str:
    """The outbox table as it lies on disk, and opened with the field keys."""
    from django.db import connection

    from krov.telegram.models import Outbound

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM telegram_outbound")
        raw = repr(cursor.fetchall())
    return raw + json.dumps([r.params for r in Outbound.objects.all()], ensure_ascii=False)


def test_a_sealed_telegram_case_is_read_and_answered_in_the_volunteers_telegram(
    telegram_user, team, make_volunteer, coordinator
):
    from tests.telegram.test_volunteers import linked_volunteer

    volunteer, helper = linked_volunteer(telegram_user, make_volunteer)
    requester = telegram_user(555000111)
    case = describe(requester)
    assert case.is_sealed
    aid.offer(case, actor=coordinator, volunteer=volunteer)
    helper.press(helper.buttons()[0])  # accept: the text is sealed, a notice to reply to
    requester.say("Маркер-77: ми в Харкові")
    incoming = helper.inbox()[-1]
    assert "Маркер-77: ми в Харкові" in incoming["text"]  # forwarded as it passed
    helper.say("Маркер-78: я приїду о дев'ятій", reply_to=incoming["message_id"])
    assert "Маркер-78: я приїду о дев'ятій" in requester.last_text()
    assert "Veter" not in requester.last_text()
    answer = Message.objects.get(request=case, direction="out")
    assert team.read(case, "message", answer.body) == "Маркер-78: я приїду о дев'ятій"
    assert answer.delivery == Message.Delivery.SENT
    # Neither text is stored where the server's keys open it: updates and outbox.
    for stored in (stored_payloads(), raw_outbox()):
        assert "Маркер-77" not in stored and "Маркер-78" not in stored


def test_a_volunteer_answers_a_sealed_web_case_by_replying_to_its_notice(
    telegram_user, team, make_volunteer, coordinator, submit
):
    from tests.telegram.test_volunteers import linked_volunteer

    volunteer, helper = linked_volunteer(telegram_user, make_volunteer)
    case, _token = submit("Маркер-79: потрібна машина")
    aid.assign(case, volunteer, actor=coordinator)
    aid.post_requester_message(case, body="Маркер-80 from the web")
    notice = helper.inbox()[-1]
    assert "Маркер" not in notice["text"]  # the web requester's words stay out of Telegram
    helper.say("Маркер-81: я допоможу", reply_to=notice["message_id"])
    answer = Message.objects.get(request=case, direction="out")
    assert team.read(case, "message", answer.body) == "Маркер-81: я допоможу"
    assert "Маркер-81" not in stored_payloads()


def test_a_volunteers_text_that_answers_no_case_or_is_too_long_is_not_kept(
    telegram_user, team, make_volunteer, coordinator, submit, settings
):
    from tests.telegram.test_volunteers import linked_volunteer

    volunteer, helper = linked_volunteer(telegram_user, make_volunteer)
    helper.say("Маркер-82 to nobody")
    assert "Маркер-82" not in stored_payloads() and not Message.objects.exists()
    case, _token = submit("A web request")
    aid.assign(case, volunteer, actor=coordinator)
    aid.post_requester_message(case, body="Are you there?")
    notice = helper.inbox()[-1]
    helper.say("x" * (settings.KROV_AID_MAX_TEXT + 1), reply_to=notice["message_id"])
    assert str(settings.KROV_AID_MAX_TEXT) in helper.last_text()
    assert not Message.objects.filter(direction="out").exists()


# --- old buttons and odd updates: nothing lost, nothing kept in the clear ---------------------


def test_old_buttons_while_a_sealed_case_is_open_lose_nothing(telegram_user, team):
    user = telegram_user()
    case = describe(user)
    user.press("lang:ru")
    user.press("cat:money")
    assert Chat.objects.get().state == Chat.State.CASE
    user.say("Маркер-83: ми вже у Львові")
    last = Message.objects.filter(request=case, direction="in").last()
    assert team.read(case, "message", last.body) == "Маркер-83: ми вже у Львові"
    assert HelpRequest.objects.count() == 1
    assert "Маркер-83" not in stored_payloads()


@pytest.mark.parametrize(
    "name",
    [
        "document_empty_thumbnail",
        "document_older_client",
        "video_forwarded_odd_origin",
        "text_odd_parts",
        "location_live",
        "contact_without_name",
    ],
)
def test_an_update_with_odd_optional_parts_reaches_the_sealed_case(telegram_user, team, name):
    from tests.telegram.test_dialogue import expected, post_odd

    user = telegram_user()
    case = describe(user)
    update = post_odd(user, name)
    assert Update.objects.get(update_id=update["update_id"]).status == Update.Status.DONE
    last = Message.objects.filter(request=case, direction="in").last()
    body, attachment = expected(name)
    assert team.read(case, "message", last.body) == body
    if attachment:
        assert team.read(case, "message.attachment", last.attachment_ref) == attachment
    else:
        assert last.attachment_ref == ""


def test_a_parked_update_holds_no_case_text_and_reaches_the_case_when_processed_again(
    telegram_user, team, monkeypatch, personas
):
    """What waits for an administrator was sealed at the webhook like any other update:
    ids, the command word and sealed parts, never what the requester wrote. Processed
    again once the fault is gone, it reaches the case."""
    from krov.telegram import dialogue, intake, services

    user = telegram_user()
    case = describe(user)

    def broken(update, **kwargs):
        raise RuntimeError("a bug in the dialogue")

    with monkeypatch.context() as patch:
        patch.setattr(dialogue, "handle", broken)
        user.say("Маркер-84: адреса притулку")
        for _attempt in range(intake.MAX_ATTEMPTS):
            with contextlib.suppress(RuntimeError):
                intake.process_chat(services.chat_key(user.chat_id))
    parked = Update.objects.get(status=Update.Status.PARKED)
    assert parked.payload and "Маркер-84" not in stored_payloads()
    assert services.process_parked_again(Update.objects.all(), actor=personas["admin"].user) == 1
    assert Update.objects.get(pk=parked.pk).status == Update.Status.DONE
    last = Message.objects.filter(request=case, direction="in").last()
    assert team.read(case, "message", last.body) == "Маркер-84: адреса притулку"

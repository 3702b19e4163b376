"""Volunteers on Telegram: linking, offers with buttons, reply-to routing, unlinking."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from krov.accounts import services as account_services
from krov.aid import services as aid
from krov.aid.models import HelpRequest, Message
from krov.telegram import services
from krov.telegram.models import Chat

pytestmark = pytest.mark.django_db


def linked_volunteer(telegram_user, make_volunteer, name="Veter", chat_id=777000111):
    volunteer = make_volunteer(name)
    # Their Krov account is in Ukrainian: the bot writes to them in Ukrainian.
    type(volunteer.user).objects.filter(pk=volunteer.user_id).update(language="uk")
    volunteer.user.language = "uk"
    code = services.create_link_code(volunteer, actor=volunteer.user)
    user = telegram_user(chat_id)
    user.say(f"/link {code}")
    assert Chat.objects.get(volunteer=volunteer)
    return volunteer, user


def test_the_console_makes_a_one_time_code_that_links_a_chat(telegram_user, make_volunteer):
    volunteer = make_volunteer("Veter")
    client = Client()
    client.force_login(volunteer.user, backend="krov.accounts.backends.KrovBackend")
    page = client.post("/en/aid/telegram/")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    code = page.content.decode().split("/link ")[1][:8]
    user = telegram_user(777000111)
    user.say(f"/link {code}")
    assert Chat.objects.get(volunteer=volunteer)
    other = telegram_user(777000222)
    other.say(f"/link {code}")  # single use
    assert "застарів" in other.last_text()  # "wrong or expired", in the chat's language


def test_an_expired_code_does_not_link(telegram_user, make_volunteer):
    volunteer = make_volunteer("Veter")
    code = services.create_link_code(volunteer, actor=volunteer.user)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        telegram_user(777000111).say(f"/link {code}")
    assert not Chat.objects.filter(volunteer=volunteer).exists()


def test_guessing_codes_is_limited_per_chat(telegram_user, make_volunteer):
    volunteer = make_volunteer("Veter")
    code = services.create_link_code(volunteer, actor=volunteer.user)
    user = telegram_user(777000111)
    for attempt in range(5):
        user.say(f"/link WRONG{attempt:03d}")
    user.say(f"/link {code}")
    assert "Забагато спроб" in user.last_text()  # "too many attempts"
    assert not Chat.objects.filter(volunteer=volunteer).exists()


def test_offer_arrives_with_buttons_and_accepting_sends_the_request(
    telegram_user, make_volunteer, submit, coordinator
):
    volunteer, user = linked_volunteer(telegram_user, make_volunteer)
    case, _token = submit("Потрібен маршрут з Харкова")
    aid.offer(case, actor=coordinator, volunteer=volunteer)
    assert user.buttons()[0].endswith(":accept")
    assert "Потрібен маршрут" not in user.inbox()[-1]["text"].splitlines()[0]
    user.press(user.buttons()[0])
    case.refresh_from_db()
    assert case.assignee == volunteer
    assert "Потрібен маршрут з Харкова" in user.last_text()


def test_declining_on_telegram_moves_the_offer_on(
    telegram_user, make_volunteer, submit, coordinator
):
    volunteer, user = linked_volunteer(telegram_user, make_volunteer)
    second = make_volunteer("Second", skill_levels={"driving": 1})
    case, _token = submit()
    aid.offer(case, actor=coordinator, volunteer=volunteer)
    user.press(user.buttons()[1])
    assert case.offers.get(status="pending").volunteer == second


def test_replying_to_a_case_message_answers_that_case_through_the_relay(
    telegram_user, make_volunteer, submit, coordinator
):
    volunteer, helper = linked_volunteer(telegram_user, make_volunteer)
    requester = telegram_user(555000111)
    requester.say("/start")
    requester.press("lang:uk")
    requester.press("cat:driving")
    requester.say("Навчіть мене водити")
    case = HelpRequest.objects.get()
    aid.offer(case, actor=coordinator, volunteer=volunteer)
    helper.press(helper.buttons()[0])
    requester.say("Я в Харкові")
    incoming = helper.inbox()[-1]
    assert "Я в Харкові" in incoming["text"]
    assert incoming["text"].splitlines()[0] == "Нове повідомлення"  # their account's language
    helper.say("Я вас навчу. Коли зручно?", reply_to=incoming["message_id"])
    assert "Я вас навчу. Коли зручно?" in requester.last_text()
    assert "Veter" not in requester.last_text()
    assert case.messages.filter(direction="out").count() == 1


def test_a_message_that_is_not_a_reply_is_not_guessed_into_a_case(telegram_user, make_volunteer):
    _volunteer, helper = linked_volunteer(telegram_user, make_volunteer)
    helper.say("hello")
    assert "відповід" in helper.last_text().lower()
    assert not Message.objects.exists()


def test_panic_unlinks_the_chat_but_it_still_answers_like_a_linked_one(
    telegram_user, make_volunteer, submit, coordinator
):
    """Someone holding the volunteer's phone must not learn from the bot that the account
    locked: the chat answers as before, and nothing from a case reaches it."""
    volunteer, user = linked_volunteer(telegram_user, make_volunteer)
    user.say("hello")
    linked_answer = user.last_text()
    account_services.panic(volunteer.user, via="duress")
    assert not Chat.objects.filter(volunteer=volunteer).exists()
    user.say("hello")
    assert user.last_text() == linked_answer
    case, _token = submit("Потрібен маршрут з Харкова")
    aid.offer(case, actor=coordinator)  # goes to someone else, never to this chat
    assert all("Потрібен маршрут" not in m["text"] for m in user.inbox())


def test_unlink_from_either_side(telegram_user, make_volunteer):
    volunteer, user = linked_volunteer(telegram_user, make_volunteer)
    user.say("/unlink")
    assert not Chat.objects.filter(volunteer=volunteer).exists()
    code = services.create_link_code(volunteer, actor=volunteer.user)
    user.say(f"/link {code}")
    client = Client()
    client.force_login(volunteer.user, backend="krov.accounts.backends.KrovBackend")
    client.post("/en/aid/telegram/", {"action": "unlink"})
    assert not Chat.objects.filter(volunteer=volunteer).exists()


def remove_second_factor(user) -> None:
    """What allauth does when the last authenticator is removed on the web."""
    from allauth.mfa import signals as mfa_signals
    from allauth.mfa.models import Authenticator

    for authenticator in Authenticator.objects.filter(user=user):
        authenticator.delete()
        mfa_signals.authenticator_removed.send(
            sender=Authenticator, request=None, user=user, authenticator=authenticator
        )


def test_removing_the_last_second_factor_unlinks_telegram_and_pauses(
    telegram_user, make_volunteer, submit, coordinator
):
    volunteer, user = linked_volunteer(telegram_user, make_volunteer)
    case, _token = submit("Потрібен маршрут з Харкова")
    aid.offer(case, actor=coordinator, volunteer=volunteer)
    remove_second_factor(volunteer.user)
    volunteer.refresh_from_db()
    assert volunteer.paused
    assert not Chat.objects.filter(volunteer=volunteer).exists()
    assert not case.offers.filter(status="pending", volunteer=volunteer).exists()
    # The old Accept button does nothing now, and no case text reaches the chat.
    user.press(user.buttons()[0])
    case.refresh_from_db()
    assert case.assignee is None
    assert all("Потрібен маршрут з Харкова" not in m["text"] for m in user.inbox())


def test_a_volunteer_without_second_factor_gets_no_case_text_on_telegram(
    telegram_user, make_volunteer, submit, coordinator
):
    """Even if the factor vanished without the signal (e.g. deleted in the database)."""
    from allauth.mfa.models import Authenticator

    volunteer, helper = linked_volunteer(telegram_user, make_volunteer)
    case, _token = submit("Потрібен маршрут з Харкова")
    aid.offer(case, actor=coordinator, volunteer=volunteer)
    helper.press(helper.buttons()[0])
    Authenticator.objects.filter(user=volunteer.user).delete()
    before = len(helper.inbox())
    aid.post_requester_message(case, body="Таємне повідомлення")
    assert all("Таємне повідомлення" not in m["text"] for m in helper.inbox()[before:])
    # A reply from the chat does not reach the case; the chat is unlinked and told why.
    last_case_message = helper.inbox()[before - 1]["message_id"]
    helper.say("Відповідь", reply_to=last_case_message)
    assert not case.messages.filter(direction="out").exists()
    assert not Chat.objects.filter(volunteer=volunteer).exists()


def test_a_volunteer_without_second_factor_cannot_link_a_chat(telegram_user, make_volunteer):
    from allauth.mfa.models import Authenticator

    volunteer = make_volunteer("Veter")
    code = services.create_link_code(volunteer, actor=volunteer.user)
    Authenticator.objects.filter(user=volunteer.user).delete()
    telegram_user(777000111).say(f"/link {code}")
    assert not Chat.objects.filter(volunteer=volunteer).exists()


def test_matching_skips_volunteers_without_second_factor(make_volunteer, submit):
    from allauth.mfa.models import Authenticator

    from krov.aid import matching

    with_factor = make_volunteer("Veter")
    without = make_volunteer("Second")
    Authenticator.objects.filter(user=without.user).delete()
    case, _token = submit()
    assert set(matching.candidates(case)) == {with_factor}


def test_nothing_queued_for_a_volunteer_arrives_after_panic(telegram_user, make_volunteer):
    from krov.telegram.models import Outbound

    volunteer, _user = linked_volunteer(telegram_user, make_volunteer)
    chat = Chat.objects.get(volunteer=volunteer)
    Outbound.objects.create(chat=chat, method="sendMessage", params='{"text": "case text"}')
    account_services.panic(volunteer.user, via="button")
    assert not Outbound.objects.filter(chat=chat, status=Outbound.Status.QUEUED).exists()


def _volunteer_on_a_case(telegram_user, make_volunteer, coordinator):
    volunteer, helper = linked_volunteer(telegram_user, make_volunteer)
    requester = telegram_user(555000222)
    requester.say("/start")
    requester.press("lang:uk")
    requester.press("cat:driving")
    requester.say("Навчіть мене водити")
    case = HelpRequest.objects.get()
    aid.offer(case, actor=coordinator, volunteer=volunteer)
    helper.press(helper.buttons()[0])
    case.refresh_from_db()
    assert case.assignee == volunteer
    return volunteer, helper, case


def _stranded_row(volunteer, case, status):
    """A relay of the case to the volunteer's chat that had not gone out yet."""
    from krov.telegram.models import Outbound

    return Outbound.objects.create(
        chat=Chat.objects.get(volunteer=volunteer),
        case=case,
        method="send_message",
        params='{"text": "stranded case text"}',
        status=status,
    )


@pytest.mark.parametrize("status", ["queued", "waiting", "sending"])
def test_no_relay_of_any_state_survives_a_panic(telegram_user, make_volunteer, coordinator, status):
    from krov.telegram.models import Outbound

    volunteer, _helper, case = _volunteer_on_a_case(telegram_user, make_volunteer, coordinator)
    row = _stranded_row(volunteer, case, status)
    account_services.panic(volunteer.user, via="button")
    assert not Outbound.objects.filter(pk=row.pk).exists()


def test_a_relay_for_the_old_volunteer_is_not_sent_after_a_hand_over(
    telegram_user, make_volunteer, coordinator
):
    """The row was queued while the case was theirs; by the time the worker reaches it the
    case went back to triage: it fails, wiped, and nothing reaches their chat."""
    from krov.telegram import outbox
    from krov.telegram.models import Outbound

    volunteer, helper, case = _volunteer_on_a_case(telegram_user, make_volunteer, coordinator)
    row = _stranded_row(volunteer, case, "queued")
    aid.hand_over(case, actor=volunteer.user, reason="Не встигаю")
    before = len(helper.inbox())
    outbox.send_due(budget_seconds=2)
    row.refresh_from_db()
    assert (row.status, row.params, row.error) == (
        Outbound.Status.FAILED,
        "{}",
        "no longer this chat's case",
    )
    assert len(helper.inbox()) == before
    assert all("stranded" not in (m.get("text") or "") for m in helper.inbox())


def test_a_relay_still_reaches_the_volunteer_whose_case_it_is(
    telegram_user, make_volunteer, coordinator
):
    from krov.telegram import outbox

    volunteer, helper, case = _volunteer_on_a_case(telegram_user, make_volunteer, coordinator)
    _stranded_row(volunteer, case, "queued")
    outbox.send_due(budget_seconds=2)
    assert helper.last_text() == "stranded case text"


def test_a_waiting_relay_for_a_volunteer_who_lost_the_case_is_not_offered_to_readers(
    telegram_user, make_volunteer, coordinator
):
    from krov.telegram import outbox_keys
    from krov.telegram.models import Outbound

    volunteer, _helper, case = _volunteer_on_a_case(telegram_user, make_volunteer, coordinator)
    telegram_user(555000222).say("Я в Харкові")
    row = _stranded_row(volunteer, case, "waiting")
    row.aid_message = case.messages.get(direction="in")
    row.save(update_fields=["aid_message"])
    aid.hand_over(case, actor=volunteer.user, reason="Не встигаю")
    outbox_keys.hold()
    assert row.aid_message_id not in [pk for pk, _keys in outbox_keys.waiting_for_readers()]
    row.refresh_from_db()
    assert row.status == Outbound.Status.FAILED


def test_a_volunteer_reads_the_bot_in_the_language_of_their_settings(
    telegram_user, make_volunteer, coordinator
):
    """Their Telegram is set to Ukrainian, their Krov account to Russian: the relay of a
    requester's message and the bot's own answers are in Russian."""
    from django.utils.translation import gettext as _
    from django.utils.translation import override

    volunteer, helper, case = _volunteer_on_a_case(telegram_user, make_volunteer, coordinator)
    type(volunteer.user).objects.filter(pk=volunteer.user_id).update(language="ru")
    telegram_user(555000222).say("Я в Харкові")
    with override("ru"):
        expected = _("New message")
    assert helper.last_text().splitlines()[0] == expected != "Нове повідомлення"
    helper.say("hello")  # not a reply: the bot says how to answer, in Russian too
    with override("ru"):
        assert helper.last_text() == _("To answer a case, reply to one of its messages.")

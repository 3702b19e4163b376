"""The requester's dialogue and the volunteer's Telegram: updates into the webhook in
process, the bot's answers out to the fake Bot API; the dialogue once over real HTTP."""

from __future__ import annotations

import pytest
from django.utils.translation import gettext, override

from krov.aid import services as aid
from krov.aid.models import HelpRequest, Message, Skill
from krov.telegram import services
from krov.telegram.models import Chat, Update
from tests.telegram.conftest import END_TO_END, fixture

pytestmark = pytest.mark.django_db


def run_dialogue(user, text="Моя мама не може вести авто. Навчіть мене водити."):
    user.say("/start")
    assert "lang:uk" in user.buttons()
    user.press("lang:uk")
    assert "cat:driving" in user.buttons()
    user.press("cat:driving")
    user.say(text)
    return HelpRequest.objects.get(channel="telegram")


def check_start_to_case_in_ukrainian(user) -> None:
    case = run_dialogue(user)
    assert case.language == "uk" and case.skill.slug == "driving"
    assert case.description.startswith("Моя мама")
    assert case.code in user.last_text()
    texts = [m.get("text", "") for m in user.inbox()]
    assert any("/forget" in t and "30" in t for t in texts)  # the notice: what, how long
    chat = Chat.objects.get()
    # Without a team key nothing is sealed: the case keeps its contact as before; the chat
    # itself never keeps the id where the server's keys open it.
    assert chat.chat_id == "" and str(user.chat_id) not in chat.key
    assert chat.contact_lookup == case.contact_lookup
    assert case.contact_handle == str(user.chat_id)


def test_start_to_case_in_ukrainian(telegram_user):
    check_start_to_case_in_ukrainian(telegram_user())


@END_TO_END
def test_start_to_case_in_ukrainian_over_http(live_telegram_user):
    """The dialogue once over the whole wire: each update POSTed to a real server and
    committed for real, each answer sent over HTTP to the Bot API before the next update."""
    check_start_to_case_in_ukrainian(live_telegram_user())


def test_nothing_but_the_chat_id_is_kept_about_the_person(telegram_user):
    user = telegram_user()
    run_dialogue(user)
    assert Chat.objects.count() == 1
    fields = {f.name for f in Chat._meta.concrete_fields}
    assert not {"username", "first_name", "last_name", "phone"} & fields
    assert [u.payload for u in Update.objects.all()] == ["", "", "", ""]  # raw JSON dropped


def test_later_messages_join_the_case_and_the_volunteer_answer_arrives(
    telegram_user, make_volunteer, coordinator
):
    user = telegram_user()
    case = run_dialogue(user)
    user.say("Ми в Харкові.")
    assert "Ми в Харкові." in [m.body for m in case.messages.filter(direction="in")]
    volunteer = make_volunteer("Veter")
    aid.assign(case, volunteer, actor=coordinator)
    case.refresh_from_db()
    message = aid.post_reply(case, actor=volunteer.user, body="Добрий день, я допоможу.")
    received = user.last_text()
    assert received.splitlines()[0] == "Повідомлення для вас"  # neutral first line
    assert "Добрий день, я допоможу." in received and case.alias in received
    assert "Veter" not in received
    assert Message.objects.get(pk=message.pk).delivery == Message.Delivery.SENT


def test_photos_are_relayed_by_file_id_never_downloaded(
    telegram_user, webhook, fake_api, make_volunteer, coordinator
):
    user = telegram_user()
    case = run_dialogue(user)
    volunteer = make_volunteer("Veter")
    aid.assign(case, volunteer, actor=coordinator)
    update = fixture("message_photo")
    update["message"]["chat"]["id"] = user.chat_id
    assert webhook(update)[0] == 200
    message = case.messages.filter(direction="in").last()
    assert message.attachment_ref == "photo:AgACAgIAAxkBAAIBlarge"
    assert message.body == "Це документ про евакуацію"
    assert not [m for m, _p in fake_api.calls if m in {"getFile", "get_file"}]


def test_status_help_and_unknown_text(telegram_user):
    user = telegram_user()
    user.say("hello?")
    assert "/start" in user.last_text()
    case = run_dialogue(user)
    user.say("/status")
    assert case.code in user.last_text()
    user.say("/help")
    assert "/forget" in user.last_text()


def test_forget_closes_and_purges_now_after_confirmation(telegram_user):
    user = telegram_user()
    case = run_dialogue(user)
    user.say("/forget")
    assert user.buttons() == ["forget:yes", "forget:no"]
    user.press("forget:no")
    assert HelpRequest.objects.get(pk=case.pk).purged_at is None
    user.say("/forget")
    user.press("forget:yes")
    case.refresh_from_db()
    assert case.purged_at is not None and case.description == "" and case.contact_handle == ""
    assert not Chat.objects.exists()
    assert "/start" in user.last_text()


def test_writing_after_the_case_closed_gets_a_polite_answer(telegram_user, coordinator):
    user = telegram_user()
    case = run_dialogue(user)
    aid.close_case(case, actor=coordinator, outcome="helped")
    user.say("ще питання")
    assert "/start" in user.last_text()
    assert "ще питання" not in [m.body for m in case.messages.all()]


def test_updates_of_one_chat_are_handled_in_update_id_order(telegram_user, monkeypatch):
    """Stored while the worker was away (a lost nudge), in the wrong order: processed by
    update_id, so the language comes before the category."""
    from krov.telegram import intake

    user = telegram_user()
    start = fixture("message_start")
    start["message"]["chat"]["id"] = user.chat_id
    lang = fixture("callback_language")
    lang["callback_query"]["message"]["chat"]["id"] = user.chat_id
    key = services.chat_key(user.chat_id)
    monkeypatch.setattr(intake, "nudge", lambda key: None)  # the nudges are lost
    intake.store(lang)  # 900000002 arrives first
    intake.store(start)  # 900000001 second
    assert Update.objects.filter(status="pending").count() == 2
    assert intake.process_chat(key) == 2
    assert Chat.objects.get().state == Chat.State.CATEGORY
    first, second = user.inbox()[0], user.inbox()[1]
    assert "Language" in first["text"] and "lang:" not in str(second.get("reply_markup", ""))


def test_an_update_that_keeps_failing_is_parked_not_dropped(telegram_user, monkeypatch):
    from krov.telegram import dialogue, intake

    def boom(update, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(dialogue, "handle", boom)
    user = telegram_user()
    user.say("/start")  # the task retries; in immediate mode the error surfaces here
    key = services.chat_key(user.chat_id)
    for _attempt in range(5):
        try:
            intake.process_chat(key)
        except RuntimeError:
            continue
    update = Update.objects.get()
    assert update.status == Update.Status.PARKED and update.error == "RuntimeError"
    assert update.payload  # kept for an administrator


def test_only_private_chats_start_dialogues(webhook):
    assert webhook(fixture("group_message"))[0] == 200
    assert not Chat.objects.exists()


def test_the_category_keyboard_lists_the_active_skills(telegram_user):
    Skill.objects.filter(slug="money").update(active=False)
    user = telegram_user()
    user.say("/start")
    user.press("lang:ru")
    buttons = user.buttons()
    assert "cat:driving" in buttons and "cat:money" not in buttons


# --- old buttons never take a chat away from its open request ---------------------------------


def answered_callbacks(fake_api) -> list[str]:
    return [p["callback_query_id"] for m, p in fake_api.calls if m == "answerCallbackQuery"]


@pytest.mark.parametrize("stale", [["lang:ru"], ["lang:uk", "cat:money"], ["cat:driving"]])
def test_old_language_and_category_buttons_are_answered_and_ignored_while_a_request_is_open(
    telegram_user, fake_api, stale
):
    user = telegram_user()
    case = run_dialogue(user)
    before, answered = len(user.inbox()), len(answered_callbacks(fake_api))
    for data in stale:
        user.press(data)
    assert len(answered_callbacks(fake_api)) == answered + len(stale)  # no spinner left
    assert len(user.inbox()) == before  # no category keyboard, no notice again
    chat = Chat.objects.get()
    assert (chat.state, chat.request_id, chat.language) == (Chat.State.CASE, case.pk, "uk")
    user.say("Ми вже у Львові.")
    assert "Ми вже у Львові." in [m.body for m in case.messages.filter(direction="in")]
    assert "/start" not in user.last_text()
    assert HelpRequest.objects.count() == 1


def test_a_chat_an_old_button_moved_off_its_case_still_adds_to_it(telegram_user):
    """Chats that an old button sent back to choosing a category before this was fixed:
    whatever they write joins their open request, and the chat is back with its case."""
    user = telegram_user()
    case = run_dialogue(user)
    for state in (Chat.State.CATEGORY, Chat.State.DESCRIBE, Chat.State.LANGUAGE):
        services.set_dialogue_state(Chat.objects.get(), state)
        user.say(f"ще одне ({state})")
        assert Chat.objects.get().state == Chat.State.CASE
    bodies = [m.body for m in case.messages.filter(direction="in")]
    assert bodies == ["ще одне (category)", "ще одне (describe)", "ще одне (language)"]
    assert HelpRequest.objects.count() == 1


def test_text_written_while_confirming_forget_joins_the_case(telegram_user):
    user = telegram_user()
    case = run_dialogue(user)
    user.say("/forget")
    user.say("Ні, зачекайте, ось адреса притулку.")
    assert "Ні, зачекайте, ось адреса притулку." in [m.body for m in case.messages.all()]
    assert Chat.objects.get().state == Chat.State.FORGET  # the question still stands
    user.press("forget:no")
    assert HelpRequest.objects.get(pk=case.pk).purged_at is None


def test_language_buttons_still_work_before_a_request_and_after_it_closed(
    telegram_user, coordinator
):
    user = telegram_user()
    user.say("/start")
    user.press("lang:ru")
    user.press("lang:en")  # changed their mind: the categories again, in English
    assert Chat.objects.get().language == "en" and "cat:driving" in user.buttons()
    user.press("cat:driving")
    user.press("lang:uk")  # an old button while describing: ignored, nothing lost
    assert Chat.objects.get().state == Chat.State.DESCRIBE
    user.say("I need to learn to drive.")
    case = HelpRequest.objects.get()
    aid.close_case(case, actor=coordinator, outcome="helped")
    user.say("/start")
    user.press("lang:uk")
    assert Chat.objects.get().state == Chat.State.CATEGORY


def test_a_volunteers_chat_ignores_old_language_buttons(telegram_user, make_volunteer):
    volunteer = make_volunteer("Veter")
    chat = services.get_or_create_chat(555000222)
    services.set_dialogue_state(chat, Chat.State.NEW, volunteer=volunteer)
    user = telegram_user(555000222)
    user.press("lang:ru")
    chat.refresh_from_db()
    assert chat.state == Chat.State.NEW and chat.language != "ru"
    assert user.inbox() == []


def test_a_button_press_without_its_message_is_still_answered(webhook, fake_api):
    update = fixture("callback_language")
    del update["callback_query"]["message"]
    assert webhook(update)[0] == 200
    assert answered_callbacks(fake_api) == [update["callback_query"]["id"]]
    assert Update.objects.get().status == Update.Status.DONE


# --- updates shaped oddly still reach the case -----------------------------------------------

ODD = {
    "document_empty_thumbnail": ("Довідка з місця проживання", "document:BQACAgIAAxkBAAIBdocument"),
    "document_older_client": (
        "Скан паспорта, старий клієнт",
        "document:BQADAgAEBQACwmeJSHVa-olderclient",
    ),
    "video_forwarded_odd_origin": ("Відео з блокпоста", "video:BAACAgIAAxkBAAMCZCh-video"),
    "text_odd_parts": ("Ми вже в Запоріжжі, https://example.org/mapa", ""),
    # Written out in the requester's language, as the sealed intake writes them.
    "location_live": ("[location: %(lat)s, %(lon)s]", {"lat": 47.8388, "lon": 35.1396}),
    "contact_without_name": (
        "[contact: %(name)s, %(phone)s]",
        {"name": "", "phone": "+380501234567"},
    ),
}


def expected(name: str) -> tuple[str, str]:
    body, second = ODD[name]
    if isinstance(second, dict):
        with override("uk"):
            return gettext(body) % second, ""
    return body, second


def post_odd(user, name: str) -> dict:
    update = fixture(f"odd/{name}")
    message = update["message"]
    message["chat"]["id"] = message["from"]["id"] = user.chat_id
    assert user.post(update) == (200, {"ok": True})
    return update


@pytest.mark.parametrize("name", sorted(ODD))
def test_an_update_with_odd_optional_parts_reaches_the_case(telegram_user, name):
    user = telegram_user()
    case = run_dialogue(user)
    update = post_odd(user, name)
    stored = Update.objects.get(update_id=update["update_id"])
    assert (stored.status, stored.error) == (Update.Status.DONE, "")
    message = case.messages.filter(direction="in").last()
    assert (message.body, message.attachment_ref) == expected(name)


def test_an_odd_button_press_is_answered_and_the_dialogue_goes_on(telegram_user, fake_api):
    user = telegram_user()
    user.say("/start")
    update = fixture("odd/callback_odd")
    update["callback_query"]["from"]["id"] = user.chat_id
    update["callback_query"]["message"]["chat"]["id"] = user.chat_id
    assert user.post(update)[0] == 200
    assert Update.objects.get(update_id=update["update_id"]).status == Update.Status.DONE
    assert answered_callbacks(fake_api) == [update["callback_query"]["id"]]
    assert Chat.objects.get().language == "ru" and "cat:driving" in user.buttons()

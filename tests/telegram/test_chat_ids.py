"""Telegram chat ids: a requester's is kept only sealed (to the running workers, to their
case's key) and found by a memory-hard key; what waits after a restart goes out in order
once the chat writes again or a reader hands over the case key."""

from __future__ import annotations

import json

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.utils.crypto import salted_hmac

from krov.aid.models import HelpRequest
from krov.core import sealing
from krov.telegram import chat_ids, outbox, outbox_keys, services, tasks
from krov.telegram.models import Chat, Outbound, OutboxKey, Update
from tests.telegram.test_sealed import describe
from tests.telegram.test_volunteers import linked_volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_worker():
    outbox_keys.forget()
    yield
    outbox_keys.forget()


@pytest.fixture
def held_back(monkeypatch):
    """The worker is not nudged: rows stay queued until the test sends them."""
    monkeypatch.setattr(tasks, "send_outbox", lambda: 0)


def restart_workers() -> None:
    """Every worker stops (its key goes with its memory) and a new one starts."""
    outbox_keys.forget()
    OutboxKey.objects.all().delete()
    outbox_keys.hold()


def opened_rows(table: str) -> str:
    """A table as the server's own keys open it: every field-key value decrypted."""
    model = {"telegram_chat": Chat, "telegram_update": Update, "aid_helprequest": HelpRequest}[
        table
    ]
    return repr([list(row.__dict__.values()) for row in model.objects.all()])


def test_a_requesters_chat_keeps_its_id_only_sealed_and_the_stored_updates_carry_none(
    telegram_user, team
):
    user = telegram_user()
    case = describe(user)
    chat = Chat.objects.get()
    number = str(user.chat_id)
    # Nothing the server's keys open holds the id: not the chat, its updates or its case.
    for table in ("telegram_chat", "telegram_update", "aid_helprequest"):
        assert number not in opened_rows(table), table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - a fixed table name
            assert number not in repr(cursor.fetchall()), table
    assert chat.chat_id == "" and chat.key == chat_ids.chat_key(user.chat_id)
    # The running worker opens it; the case's key opens the case's copy.
    assert chat_ids.open_id(chat) == user.chat_id
    assert sealing.is_sealed(case.contact_handle)
    assert case.contact_lookup == chat.contact_lookup


def test_the_chat_key_is_memory_hard_and_not_the_old_keyed_hash():
    key = chat_ids.chat_key(555000111)
    old = salted_hmac("krov.telegram.chat", "555000111", algorithm="sha256").hexdigest()
    assert len(key) == 64 and key != old
    assert chat_ids.chat_key("555000111") == key  # the same chat, found again
    assert chat_ids.chat_key(555000112) != key
    assert chat_ids.ARGON2_MEMORY_KIB * chat_ids.ARGON2_PASSES >= 12288


def test_after_every_worker_restarted_the_dialogue_waits_for_the_chat_and_keeps_its_order(
    telegram_user, held_back
):
    user = telegram_user()
    user.say("/start")
    restart_workers()
    outbox.send_due()
    # The new worker cannot open the chat's id: nothing is sent, nothing is lost.
    assert user.inbox() == []
    waiting = Outbound.objects.filter(chat__isnull=False, status=Outbound.Status.WAITING)
    assert waiting.exists() and {row.error for row in waiting} == {chat_ids.WAITING_FOR_CHAT}
    # The requester presses a button: the id is sealed to the new worker, and everything
    # is sent in the order it was made.
    user.press("lang:uk")
    outbox.send_due()
    texts = [message.get("text", "") for message in user.inbox()]
    assert texts[0].startswith("Мова · Язык") and "Яка допомога" in texts[-1]
    assert not Outbound.objects.filter(status=Outbound.Status.WAITING).exists()


def test_a_linked_volunteers_chat_keeps_its_id_for_offers_until_it_is_unlinked(
    telegram_user, make_volunteer
):
    volunteer, user = linked_volunteer(telegram_user, make_volunteer)
    chat = Chat.objects.get(volunteer=volunteer)
    assert chat.chat_id == str(user.chat_id)
    restart_workers()
    services.send_text(chat, "Нова пропозиція")
    assert "Нова пропозиція" in user.last_text()  # reached after the restart
    services.unlink(volunteer)
    chat.refresh_from_db()
    assert chat.chat_id == "" and chat.volunteer is None


def test_forget_confirms_through_the_workers_key_to_a_chat_whose_row_is_gone(telegram_user, team):
    user = telegram_user()
    describe(user)
    user.say("/forget")
    user.press("forget:yes")
    assert not Chat.objects.exists()
    assert "/start" in user.last_text()  # the confirmation arrived
    row = Outbound.objects.get(chat__isnull=True, method="send_message")
    assert row.status == Outbound.Status.SENT and row.sealed_chat == {} and row.params == "{}"


def test_the_migration_rekeys_chats_and_seals_their_ids(team, coordinator):
    """Chats made before this change: found by the old keyed hash, the id under the field
    keys, the case's contact in the clear."""
    from importlib import import_module

    migration = import_module("krov.telegram.migrations.0009_seal_chat_ids")

    number = 555000333
    old_key = salted_hmac("krov.telegram.chat", str(number), algorithm="sha256").hexdigest()
    old_lookup = salted_hmac("krov.aid.contact", str(number), algorithm="sha256").hexdigest()
    from krov.aid import services as aid
    from krov.aid.models import Skill

    case = aid.submit_request(
        channel="telegram",
        language="uk",
        skill=Skill.objects.get(slug="driving"),
        description="a request",
    ).request
    HelpRequest.objects.filter(pk=case.pk).update(
        contact_handle=str(number), contact_lookup=old_lookup
    )
    chat = Chat.objects.create(key=old_key, chat_id=str(number), request=case)
    Update.objects.create(
        update_id=1,
        chat_key=old_key,
        status=Update.Status.PENDING,
        payload=json.dumps({"update_id": 1, "message": {"chat": {"id": number}}}),
    )
    Update.objects.create(update_id=2, chat_key=old_key, status=Update.Status.DONE)
    outbox_keys.hold()
    migration.seal_chat_ids(django_apps, None)

    chat.refresh_from_db()
    case.refresh_from_db()
    assert chat.key == chat_ids.chat_key(number) and chat.chat_id == ""
    assert chat_ids.open_id(chat) == number
    assert case.contact_lookup == chat.contact_lookup == chat_ids.contact_lookup(chat.key)
    assert sealing.is_sealed(case.contact_handle)
    assert set(Update.objects.values_list("chat_key", flat=True)) == {chat.key}

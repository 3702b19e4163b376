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


# --- from the attacker review: no id where the server's keys open it, no wrong chat ---------


def test_a_volunteers_chat_never_takes_a_requesters_id_from_their_case(
    telegram_user, team, make_volunteer, coordinator, held_back
):
    """A reader hands a case key over for a message to the case's volunteer: the case's
    contact (the requester's id) is for the requester's own chat only."""
    from krov.aid import services as aid
    from tests.telegram.test_outbox_keys import hand_case_key, signed_in

    requester = telegram_user()
    case = describe(requester)
    volunteer, helper = linked_volunteer(telegram_user, make_volunteer)
    aid.assign(case, volunteer, actor=coordinator)
    volunteer_chat = Chat.objects.get(volunteer=volunteer)
    Chat.objects.filter(pk=volunteer_chat.pk).update(chat_id="")  # its id unknown here
    restart_workers()
    requester.say("Маркер-88 ще одне повідомлення")
    Outbound.objects.filter(chat=volunteer_chat).update(status=Outbound.Status.WAITING, sealed={})
    desk = signed_in(coordinator)
    for item in desk.get("/en/aid/keys/relays/").json()["waiting"]:
        desk.post("/en/aid/keys/relays/", hand_case_key(team, case, item))
    outbox.send_due()
    assert not any("Маркер-88" in (m.get("text") or "") for m in requester.inbox())
    volunteer_chat.refresh_from_db()
    assert volunteer_chat.chat_id in ("", str(helper.chat_id))
    assert chat_ids.open_id(volunteer_chat) != requester.chat_id


def test_link_is_refused_and_the_code_kept_when_the_worker_cannot_open_the_chats_id(
    telegram_user, make_volunteer, monkeypatch, team
):
    from krov.telegram import intake
    from krov.telegram.models import LinkCode

    volunteer = make_volunteer("Veter")
    code = services.create_link_code(volunteer, actor=volunteer.user)
    user = telegram_user(777000333)
    monkeypatch.setattr(intake, "nudge", lambda key: None)
    user.say("/start")  # the chat exists, its id sealed to the worker running then
    intake.process_chat(chat_ids.chat_key(user.chat_id))
    user.say(f"/link {code}")
    restart_workers()  # the worker that processes /link holds another key
    intake.process_chat(chat_ids.chat_key(user.chat_id))
    assert not Chat.objects.filter(volunteer=volunteer).exists()
    assert LinkCode.objects.get(volunteer=volunteer).used_at is None
    monkeypatch.undo()
    user.say(f"/link {code}")  # once more: the id is sealed to the running worker now
    assert Chat.objects.get(volunteer=volunteer).chat_id == str(user.chat_id)


def test_an_update_that_arrives_while_no_worker_runs_keeps_its_id_until_a_worker_seals_it(
    telegram_user, team, monkeypatch
):
    from krov.telegram import intake

    user = telegram_user()
    monkeypatch.setattr(intake, "nudge", lambda key: None)
    user.say("/start")
    outbox_keys.forget()
    OutboxKey.objects.all().delete()
    monkeypatch.setattr(outbox_keys, "runs_tasks_here", lambda: False)  # a web process
    user.press("lang:uk")
    stored = Update.objects.order_by("-update_id").first()
    assert str(user.chat_id) in stored.payload  # no worker could open a sealed id
    monkeypatch.setattr(outbox_keys, "runs_tasks_here", lambda: True)  # a worker starts
    intake.process_chat(chat_ids.chat_key(user.chat_id))
    chat = Chat.objects.get()
    assert chat_ids.open_id(chat) == user.chat_id
    assert Update.objects.get(pk=stored.pk).payload == ""  # dropped once processed


def test_forget_purges_every_case_of_the_chat_not_only_the_current_one(
    telegram_user, team, coordinator
):
    from krov.aid import services as aid

    user = telegram_user()
    first = describe(user)
    aid.close_case(first, actor=coordinator, outcome=HelpRequest.Outcome.HELPED)
    user.say("/start")
    user.press("lang:uk")
    user.press("cat:driving")
    user.say("Ще один запит")
    assert HelpRequest.objects.filter(channel="telegram", purged_at__isnull=True).count() == 2
    user.say("/forget")
    user.press("forget:yes")
    assert not HelpRequest.objects.filter(channel="telegram", purged_at__isnull=True).exists()


def test_a_parked_update_keeps_no_chat_id(telegram_user, monkeypatch):
    import contextlib

    from krov.telegram import dialogue, intake

    user = telegram_user()
    monkeypatch.setattr(intake, "nudge", lambda key: None)
    outbox_keys.forget()
    OutboxKey.objects.all().delete()
    monkeypatch.setattr(outbox_keys, "runs_tasks_here", lambda: False)
    user.say("/start")  # stored with its id: no worker ran
    monkeypatch.setattr(outbox_keys, "runs_tasks_here", lambda: True)

    def broken(update, **kwargs):
        raise RuntimeError("a bug in the dialogue")

    monkeypatch.setattr(dialogue, "handle", broken)
    for _attempt in range(intake.MAX_ATTEMPTS):
        with contextlib.suppress(RuntimeError):
            intake.process_chat(chat_ids.chat_key(user.chat_id))
    parked = Update.objects.get(status=Update.Status.PARKED)
    assert parked.payload and str(user.chat_id) not in parked.payload


def test_unlink_from_telegram_drops_the_volunteers_chat_id(telegram_user, make_volunteer):
    volunteer, user = linked_volunteer(telegram_user, make_volunteer)
    user.say("/unlink")
    chat = Chat.objects.get(key=chat_ids.chat_key(user.chat_id))
    assert chat.volunteer is None and chat.chat_id == ""


def test_a_lease_left_by_a_killed_holder_lapses(settings):
    import time_machine
    from django.utils import timezone

    from krov.core import leases

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    held = leases.Lease("test-killed", 60)
    from django.core.cache import cache

    cache.add(held.key, held.token, timeout=60)  # a holder that never lets go
    with pytest.raises(leases.Taken), leases.lease("test-killed", 60):
        pass
    later = timezone.now() + timezone.timedelta(seconds=61)
    with time_machine.travel(later, tick=False), leases.lease("test-killed", 60) as mine:
        assert mine.renew()

"""The webhook's store: one statement decides whether an update is new, a retry keeps
nothing made for it, and the cheap checks agree with the ones they stand in for."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from krov.aid import services as aid
from krov.aid.models import TeamKey
from krov.telegram import intake
from krov.telegram.models import Chat, Update
from tests.telegram.conftest import fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_nudge(monkeypatch):
    """The worker is away: stored updates stay pending."""
    monkeypatch.setattr(intake, "nudge", lambda key: None)


def update_statements(queries) -> list[str]:
    return [q["sql"] for q in queries if Update._meta.db_table in q["sql"]]


def test_a_repeated_update_id_is_stored_once_by_a_single_statement(no_nudge):
    update = fixture("message_start")
    assert intake.store(json.loads(json.dumps(update))) is True
    with CaptureQueriesContext(connection) as queries:
        assert intake.store(json.loads(json.dumps(update))) is False
    statements = update_statements(queries.captured_queries)
    assert len(statements) == 1  # no look-up before it
    assert statements[0].startswith("INSERT") and "ON CONFLICT" in statements[0]
    assert Update.objects.count() == 1


def test_a_new_update_is_stored_pending_with_its_payload_encrypted(no_nudge):
    update = fixture("message_start")
    with CaptureQueriesContext(connection) as queries:
        assert intake.store(update) is True
    written = update_statements(queries.captured_queries)
    assert [sql.split()[0] for sql in written] == ["INSERT", "SELECT"]  # the nudge's check
    stored = Update.objects.get(update_id=update["update_id"])
    assert stored.status == Update.Status.PENDING and stored.chat_key
    assert json.loads(stored.payload)["message"]["text"] == "/start"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT payload FROM {Update._meta.db_table}")  # noqa: S608
        assert "/start" not in cursor.fetchone()[0]  # under the field keys


def test_a_kind_we_do_not_use_is_stored_once_as_ignored_without_a_payload(no_nudge):
    update = fixture("poll")
    assert intake.store(update) is True
    assert intake.store(fixture("poll")) is False
    stored = Update.objects.get()
    assert (stored.status, stored.chat_key, stored.payload) == (Update.Status.IGNORED, "", "")


def test_a_sealed_retry_keeps_nothing_that_was_made_for_it(team, no_nudge):
    update = fixture("message_start")
    assert intake.store(json.loads(json.dumps(update))) is True
    chat = Chat.objects.get()
    Chat.objects.filter(pk=chat.pk).update(sealed_id={})  # as if its worker had stopped
    assert intake.store(json.loads(json.dumps(update))) is False
    assert Update.objects.count() == 1
    assert Chat.objects.get().sealed_id == {}  # the retry's re-sealing was rolled back


def message(update_id: int, chat_id: int = 55400) -> dict:
    update = fixture("message_start")
    update["update_id"] = update["message"]["message_id"] = update_id
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
    return update


def test_a_chat_is_nudged_by_its_update_when_it_starts_waiting_not_for_every_update(
    monkeypatch,
):
    nudged = []
    monkeypatch.setattr(intake, "nudge", nudged.append)
    assert intake.store(message(600000001))
    assert not intake.store(message(600000001))  # a retry: stored before, no nudge
    assert intake.store(message(600000002))  # queued behind the first: its run takes it
    assert intake.store(message(600000003, chat_id=55401))  # another chat
    assert nudged == [600000001, 600000003]  # the updates, never the chats' keys
    key = intake.pending_chat_of(600000001)
    assert key == Update.objects.get(update_id=600000002).chat_key
    assert intake.process_chat(key) == 2  # the first chat's run takes both of its updates
    assert intake.pending_chat_of(600000001) is None  # a later nudge finds nothing to do
    assert intake.store(message(600000004))  # the chat waits again: a new nudge
    assert nudged == [600000001, 600000003, 600000004]


def test_an_update_older_than_the_waiting_ones_is_nudged_too(monkeypatch):
    nudged = []
    monkeypatch.setattr(intake, "nudge", nudged.append)
    intake.store(message(600000012))
    intake.store(message(600000011))  # arrives late, but is the chat's first
    assert len(nudged) == 2


def test_the_webhook_seals_from_the_moment_a_team_key_exists_until_none_is_current(coordinator):
    assert aid.sealing_ready() is False
    from tests.aid.test_sealed_cases import make_team

    make_team(coordinator)
    assert aid.sealing_ready() is True
    TeamKey.objects.update(retired_at=timezone.now())  # a renewal's moment without a key
    assert aid.sealing_ready() is False


@pytest.mark.parametrize(
    "raw",
    [
        b'"/start \\ud800"',
        b'"/start \\uDFFF x"',
        '"/start \ud800"'.encode("utf-8", "surrogatepass"),
    ],
)
def test_a_lone_surrogate_written_either_way_becomes_a_replacement_character(raw):
    body = json.dumps(fixture("message_start")).encode().replace(b'"/start"', raw)
    text = intake.parse(body)["message"]["text"]
    assert text.startswith("/start ") and "\ufffd" in text
    text.encode("utf-8")  # storable


def test_a_body_without_escapes_is_parsed_as_it_is():
    update = fixture("message_start")
    update["message"]["text"] = "Привіт, 🙂 \\ud800 is only text here"
    assert intake.parse(json.dumps(update, ensure_ascii=False).encode()) == update


def test_pending_chats_names_each_chat_once_and_pages_through_them(no_nudge):
    for chat in range(3):
        for n in range(3):
            update = fixture("message_start")
            update["update_id"] = 700000000 + chat * 10 + n
            update["message"]["chat"]["id"] = update["message"]["from"]["id"] = 55500 + chat
            intake.store(update)
    every = intake.pending_chats(older_than_seconds=0)
    assert len(every) == len(set(every)) == 3
    first = intake.pending_chats(older_than_seconds=0, limit=2)
    rest = intake.pending_chats(older_than_seconds=0, after=first[-1], limit=2)
    assert first + rest == every

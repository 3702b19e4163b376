"""What the task queue, the cache and the log keep of a Telegram chat: never its lookup key,
never its id (security review F6).

Someone who images the queue (the embedded SQLite file, or Redis) or the cache must not see
when a given chat wrote, nor tie an entry there to a chat row. So the webhook's nudge names
the update (an id the Update table holds anyway), the chat's lease is named by a keyed hash
of its key, and a failure is logged without the error's message.

The tests that look into the queue run Huey as production does (not immediate): the nudges
wait in the configured queue, the test reads what it holds, then runs it as a worker would.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import IntegrityError
from huey.contrib import djhuey
from huey.contrib.djhuey import HUEY
from huey.exceptions import TaskLockedException

from krov.core import leases
from krov.telegram import chat_ids, dialogue, intake, tasks
from krov.telegram.models import Update

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker_away(monkeypatch) -> Iterator[None]:
    """Huey not in immediate mode: nudges wait in the real queue (the embedded SQLite file
    in the test's data folder, or Redis) until `run_worker()`. Out of immediate mode Huey's
    database tasks close the connection around each task (as a worker between tasks), which
    would end the test's own transaction: here the test's connection stays."""
    monkeypatch.setattr(djhuey, "close_old_connections", lambda: None)
    HUEY.immediate = False
    HUEY.flush()
    try:
        yield
    finally:
        HUEY.flush()
        HUEY.immediate = True


def queued_nudges() -> list:
    return [task for task in HUEY.pending() if isinstance(task, tasks.process_chat.task_class)]


def queue_image() -> bytes:
    """Everything the queue holds, as whoever images it would read it: the messages waiting
    and scheduled, and for the embedded queue its file and write-ahead log as they are."""
    storage = HUEY.storage
    image = b"".join(storage.enqueued_items()) + b"".join(storage.scheduled_items())
    filename = getattr(storage, "filename", None)
    if filename:
        for path in (Path(filename), Path(f"{filename}-wal")):
            if path.exists():
                image += path.read_bytes()
    return image


def names_the_chat(image: bytes | str, chat_id: int) -> bool:
    key = chat_ids.chat_key(chat_id)
    if isinstance(image, str):
        return key in image or str(chat_id) in image
    return key.encode() in image or bytes.fromhex(key) in image or str(chat_id).encode() in image


def run_worker() -> None:
    """What a Huey worker does with the queue, until it is empty."""
    while (task := HUEY.dequeue()) is not None:
        HUEY.execute(task)


def cache_entries() -> list[str]:
    """The cache's keys and values, as whoever images it would read them (the tests' cache
    is Django's local-memory one: its entries are a dict of pickled values)."""
    store = cache._cache  # type: ignore[attr-defined]
    return [f"{key} {value!r}" for key, value in store.items()]


@pytest.fixture
def handled(monkeypatch) -> list[tuple[int, list[str]]]:
    """Each update the dialogue handles, in order, with the cache's entries at that moment
    (the chat's lease is held then)."""
    seen: list[tuple[int, list[str]]] = []
    real = dialogue.handle

    def handle(update, **kwargs):
        seen.append((update.update_id, cache_entries()))
        return real(update, **kwargs)

    monkeypatch.setattr(dialogue, "handle", handle)
    return seen


def lease_entries(entries: list[str]) -> list[str]:
    return [entry for entry in entries if "lease:telegram-chat-" in entry]


# --- the queue ---------------------------------------------------------------------------


def test_the_webhooks_nudge_carries_the_update_id_and_no_chat_key_or_id(worker_away, telegram_user):
    user = telegram_user(chat_id=5550001201)
    assert user.say("/start", update_id=930000001)[0] == 200
    (nudge,) = queued_nudges()
    assert (nudge.args, nudge.kwargs) == ((930000001,), {})
    assert not names_the_chat(queue_image(), user.chat_id)
    run_worker()
    assert Update.objects.get(update_id=930000001).status == Update.Status.DONE
    assert "Language" in user.last_text()  # processed, and its answer sent
    assert not names_the_chat(queue_image(), user.chat_id)


# --- the cache ---------------------------------------------------------------------------


def test_the_chats_lease_in_the_cache_does_not_name_the_chat(telegram_user, handled):
    user = telegram_user(chat_id=5550001202)
    assert user.say("/start", update_id=930000011)[0] == 200  # processed at once (immediate)
    ((update_id, entries),) = handled
    assert update_id == 930000011
    (held,) = lease_entries(entries)  # the chat's lease, held while it is processed
    assert not any(names_the_chat(entry, user.chat_id) for entry in entries)
    assert tasks.chat_lease(chat_ids.chat_key(user.chat_id)) in held  # its hashed name


def test_the_nudge_and_the_sweep_take_the_same_lease_for_a_chat(worker_away, telegram_user):
    user = telegram_user(chat_id=5550001203)
    user.say("/start", update_id=930000021)
    key = chat_ids.chat_key(user.chat_id)
    # The sweep is processing this chat: its nudge leaves it alone.
    with leases.lease(tasks.chat_lease(key), 60), pytest.raises(TaskLockedException):
        tasks.process_chat.call_local(930000021)
    assert Update.objects.get(update_id=930000021).status == Update.Status.PENDING
    assert tasks.drain(older_than_seconds=0) == 1  # the sweep, under the same name
    assert key not in tasks.chat_lease(key)


# --- a burst -----------------------------------------------------------------------------


def test_a_burst_from_one_chat_is_one_nudge_and_all_of_it_is_processed_in_order(
    worker_away, telegram_user, handled
):
    user, other = telegram_user(chat_id=5550001204), telegram_user(chat_id=5550001205)
    ids = [930000031, 930000032, 930000033, 930000034]
    user.say("/start", update_id=ids[0])
    other.say("/start", update_id=930000035)
    for update_id in ids[1:]:
        user.say("hello", update_id=update_id)
    assert sorted(task.args for task in queued_nudges()) == [(ids[0],), (930000035,)]
    assert not names_the_chat(queue_image(), user.chat_id)
    run_worker()
    mine = [update_id for update_id, _entries in handled if update_id in ids]
    assert mine == ids  # all of them, once each, in order
    assert set(Update.objects.values_list("status", flat=True)) == {Update.Status.DONE}


# --- a task queued by an older version ---------------------------------------------------


def test_a_task_queued_with_a_chat_key_by_an_older_version_still_processes_its_chat(
    worker_away, telegram_user, handled
):
    user = telegram_user(chat_id=5550001206)
    user.say("/start", update_id=930000041)
    user.say("hello", update_id=930000042)
    HUEY.flush()  # what the older version queued instead:
    key = chat_ids.chat_key(user.chat_id)
    HUEY.enqueue(tasks.process_chat.s(key))
    assert queued_nudges()[0].args == (key,)
    legacy = HUEY.dequeue()
    HUEY.execute(legacy)  # taken once: the chat's first pending update is queued instead
    assert [task.args for task in queued_nudges()] == [(930000041,)]
    run_worker()
    assert [update_id for update_id, _entries in handled] == [930000041, 930000042]
    assert set(Update.objects.values_list("status", flat=True)) == {Update.Status.DONE}
    for _update_id, entries in handled:  # processed under the hashed lease
        assert lease_entries(entries)
        assert not any(names_the_chat(entry, user.chat_id) for entry in entries)


def test_a_reprocessed_chat_is_queued_by_its_update_too(worker_away, telegram_user):
    """Reprocessing parked updates nudges chats by their key: the queue gets the chat's
    first pending update instead."""
    user = telegram_user(chat_id=5550001207)
    user.say("/start", update_id=930000051)
    HUEY.flush()
    intake.nudge(chat_ids.chat_key(user.chat_id))
    assert [task.args for task in queued_nudges()] == [(930000051,)]


# --- the log -----------------------------------------------------------------------------


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter().format(record))  # with any traceback


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every line Krov's and Huey's loggers write (Huey's does not propagate)."""
    handler = Collected()
    loggers = [logging.getLogger(), logging.getLogger("huey")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def test_a_failing_update_is_logged_without_the_chats_key_or_id(
    telegram_user, monkeypatch, log_lines
):
    user = telegram_user(chat_id=5550001208)
    key = chat_ids.chat_key(user.chat_id)

    def fails(update, **kwargs):
        # As PostgreSQL words a constraint error: the row's values in its message.
        raise IntegrityError(f"Key (key)=({key}) already exists; chat {user.chat_id}")

    monkeypatch.setattr(dialogue, "handle", fails)
    assert user.say("/start", update_id=930000061)[0] == 200
    assert Update.objects.get(update_id=930000061).attempts == 1
    failures = [line for line in log_lines if "930000061 failed" in line]
    assert failures and "IntegrityError" in failures[0]  # where and what, for the operator
    assert "test_queue_privacy.py" in failures[0]  # with its frames
    assert not any(names_the_chat(line, user.chat_id) for line in log_lines)

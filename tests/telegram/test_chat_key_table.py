"""The chat keys the processes of one app server share (krov.telegram.chat_key_table): one
Argon2id per chat and app server, never a key under another chat's name, nothing on disk."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys

import pytest
from argon2.low_level import Type, hash_secret_raw
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from krov.telegram import chat_ids, chat_key_table
from krov.telegram.chat_key_table import KEY_BYTES, MAC_BYTES, SLOT_BYTES, SharedTable


def _argon2_calls(monkeypatch) -> list[bytes]:
    calls: list[bytes] = []
    real = chat_ids.hash_secret_raw

    def counting(**kwargs):
        calls.append(kwargs["secret"])
        return real(**kwargs)

    monkeypatch.setattr(chat_ids, "hash_secret_raw", counting)
    return calls


def test_a_chat_key_is_argon2id_of_the_id_computed_once_and_then_found(monkeypatch):
    chat_key_table.TABLE.clear()
    calls = _argon2_calls(monkeypatch)
    key = chat_ids.chat_key(731000001)
    expected = hash_secret_raw(
        secret=b"731000001",
        salt=chat_ids._salt(),
        time_cost=chat_ids.ARGON2_PASSES,
        memory_cost=chat_ids.ARGON2_MEMORY_KIB,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
    ).hex()
    assert key == expected
    assert chat_ids.chat_key("731000001") == key
    assert calls == [b"731000001"]


def test_another_server_secret_never_finds_a_key_made_under_the_old_one(monkeypatch):
    chat_key_table.TABLE.clear()
    before = chat_ids.chat_key(731000002)
    with override_settings(SECRET_KEY="another-secret-" + "y" * 50):
        after = chat_ids.chat_key(731000002)
    assert after != before
    assert chat_ids.chat_key(731000002) == before


def _compute_in_child(chat_id: int) -> None:
    chat_ids.chat_key(chat_id)


def test_a_key_computed_by_a_forked_sibling_is_found_without_hashing_again(monkeypatch):
    """As gunicorn's workers, forked from the master that imported the table: what one
    worker computed, the others find."""
    chat_key_table.TABLE.clear()
    child = multiprocessing.get_context("fork").Process(target=_compute_in_child, args=(731003,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    calls = _argon2_calls(monkeypatch)
    key = chat_ids.chat_key(731003)
    assert calls == []  # found: the child's work
    monkeypatch.undo()
    chat_key_table.TABLE.clear()
    assert chat_ids.chat_key(731003) == key  # and it is the key Argon2id gives


def test_gunicorns_master_makes_the_table_before_it_forks_its_workers():
    code = "import sys, krov.gunicorn_conf; print('krov.telegram.chat_key_table' in sys.modules)"
    shown = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert shown.strip() == "True"


@given(
    st.lists(st.binary(min_size=1, max_size=24), min_size=1, max_size=40, unique=True),
    st.integers(min_value=1, max_value=8),
)
def test_the_table_never_answers_for_a_name_with_another_names_key(names, slots):
    table = SharedTable(slots=slots)
    keys = {name: bytes([index % 256]) * KEY_BYTES for index, name in enumerate(names)}
    for name, key in keys.items():
        table.put(name, key)
        assert table.get(name) == key
    for name, key in keys.items():
        assert table.get(name) in (key, None)  # replaced by a later name, never mixed up


def test_a_slot_holding_another_chats_key_or_half_written_reads_as_a_miss():
    """No lock (a worker killed mid-write must not stop the others): what a read finds is
    checked against the name it asks for."""
    table = SharedTable(slots=1)
    first, second = b"chat-1", b"chat-2"
    table.put(first, b"\x01" * KEY_BYTES)
    slot = bytes(table._memory[:SLOT_BYTES])
    table.put(second, b"\x02" * KEY_BYTES)
    assert table.get(first) is None and table.get(second) == b"\x02" * KEY_BYTES
    # The first chat's MAC beside the second's key, as a torn write between two
    # processes would leave it: neither chat takes that key.
    table._memory[:SLOT_BYTES] = slot[:MAC_BYTES] + b"\x02" * KEY_BYTES
    assert table.get(first) is None and table.get(second) is None
    # Half of a key written over another: a miss, not a wrong key.
    table.put(first, b"\x01" * KEY_BYTES)
    table._memory[MAC_BYTES : MAC_BYTES + 8] = b"\x02" * 8
    assert table.get(first) is None


def test_processes_writing_one_slot_at_once_never_hand_out_a_wrong_key():
    table = SharedTable(slots=1)
    names = [f"chat-{n}".encode() for n in range(8)]
    keys = {name: bytes([n + 1]) * KEY_BYTES for n, name in enumerate(names)}
    context = multiprocessing.get_context("fork")

    def write(rounds: int) -> None:
        for _round in range(rounds):
            for name in names:
                table.put(name, keys[name])

    writers = [context.Process(target=write, args=(3000,)) for _ in range(2)]
    for process in writers:
        process.start()
    wrong = []
    try:
        for _round in range(3000):
            for name in names:
                found = table.get(name)
                if found is not None and found != keys[name]:
                    wrong.append(name)
    finally:
        for process in writers:
            process.join(timeout=60)
    assert wrong == []


def test_a_key_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        SharedTable(slots=1).put(b"x", b"short")


def test_a_key_written_on_an_earlier_day_reads_as_a_miss():
    """The table holds only the chats seen since midnight (UTC): a chat that used /forget
    is gone from it by the next day."""
    import time_machine

    table = SharedTable(slots=4)
    with time_machine.travel("2026-12-07 23:59:00+00:00", tick=False):
        table.put(b"chat", b"\x07" * KEY_BYTES)
        assert table.get(b"chat") == b"\x07" * KEY_BYTES
    with time_machine.travel("2026-12-08 00:00:01+00:00", tick=False):
        assert table.get(b"chat") is None

"""Chat keys computed by one process, reused by its siblings: memory only, never on disk.

A chat's key is Argon2id of its id (`chat_ids.chat_key`: some 5 ms of memory-hard work, so
that trying every id costs a CPU-year). Telegram spreads a chat's updates over every
connection it holds, so with N gunicorn workers each new chat was hashed up to N times;
in a burst of new chats (the moment requests matter most) that was most of the webhook's
time. This table lets the workers of one app server share what one of them computed.

- It is an anonymous shared mapping made when this module is first imported. gunicorn's
  master imports it (krov/gunicorn_conf.py) before it forks the workers, so they all share
  one; any other process (a worker of the queue, a test) gets a table of its own, as the
  per-process cache it replaces was.
- A slot holds a tag and a key: the tag is a BLAKE2b of the chat id (with the salt of its
  hash, so a changed KROV_SECRET_KEY never finds an old key) under a random secret
  made with the table, held in memory only; so the table names no chat id, and what it
  holds is what each process's own cache held (a memory dump of a running server shows
  either). Nothing is written to a file, a cache or the database.
- One slot per tag (direct-mapped): a chat that lands on a taken slot replaces what was
  there, as an LRU drops its oldest. Slots are read and written under one lock, so a reader
  never sees one chat's tag with another's key.
"""

from __future__ import annotations

import hashlib
import mmap
import multiprocessing
import os

SLOTS = 16384
TAG_BYTES = 16
KEY_BYTES = 32
SLOT_BYTES = TAG_BYTES + KEY_BYTES


class SharedTable:
    def __init__(self, slots: int = SLOTS) -> None:
        self._slots = slots
        # fileno -1: anonymous; MAP_SHARED (the default): shared with processes forked later.
        self._memory = mmap.mmap(-1, slots * SLOT_BYTES)
        self._secret = os.urandom(32)
        self._lock = multiprocessing.Lock()

    def _place(self, name: bytes) -> tuple[bytes, int]:
        tag = hashlib.blake2b(name, key=self._secret, digest_size=TAG_BYTES).digest()
        return tag, int.from_bytes(tag[:8], "big") % self._slots * SLOT_BYTES

    def get(self, name: bytes) -> bytes | None:
        """The key stored under `name` (what the caller hashed: the chat id with the
        hash's salt), or None."""
        tag, at = self._place(name)
        with self._lock:
            slot = self._memory[at : at + SLOT_BYTES]
        return slot[TAG_BYTES:] if slot[:TAG_BYTES] == tag else None

    def put(self, name: bytes, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a chat key has {KEY_BYTES} bytes")
        tag, at = self._place(name)
        with self._lock:
            self._memory[at : at + SLOT_BYTES] = tag + key

    def clear(self) -> None:
        with self._lock:
            self._memory[:] = bytes(len(self._memory))


TABLE = SharedTable()

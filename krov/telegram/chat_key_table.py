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
- A slot holds a key and a MAC binding it to its chat: a BLAKE2b, under a random secret
  made with the table and held in memory only, of the key and the name it was computed
  for (the chat id with the salt of its hash, so a changed KROV_SECRET_KEY never finds an
  old key) and the day. The slot's place is another keyed BLAKE2b of the name. So the
  table names no chat id while its secret is unknown; but the secret lies in the same
  memory, so a memory image of a running server yields the chats seen that day at the cost
  of a fast hash per candidate id (as each process's own cache, which held the ids, did).
  Keys from an earlier day read as misses, the mapping is left out of core dumps, and
  nothing is written to a file, a cache or the database.
- No lock: a process killed in the middle of a write (gunicorn kills a worker that times
  out) must not stop its siblings. A read that meets a half-written slot, or another
  chat's key in it, finds the MAC wrong and counts as a miss (the key is computed again
  and written again); one slot per place, so a chat that lands on a taken slot replaces
  what was there, as an LRU drops its oldest.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import time

SLOTS = 16384
MAC_BYTES = 16
KEY_BYTES = 32
SLOT_BYTES = MAC_BYTES + KEY_BYTES
DAY_SECONDS = 86400


class SharedTable:
    def __init__(self, slots: int = SLOTS) -> None:
        self._slots = slots
        # fileno -1: anonymous; MAP_SHARED (the default): shared with processes forked later.
        self._memory = mmap.mmap(-1, slots * SLOT_BYTES)
        if hasattr(mmap, "MADV_DONTDUMP"):  # Linux: never in a core dump of a worker
            self._memory.madvise(mmap.MADV_DONTDUMP)
        self._secret = os.urandom(32)

    def _place(self, name: bytes) -> int:
        digest = hashlib.blake2b(
            name, key=self._secret, digest_size=8, person=b"krov-slot"
        ).digest()
        return int.from_bytes(digest, "big") % self._slots * SLOT_BYTES

    def _mac(self, name: bytes, key: bytes) -> bytes:
        # The key and the day first (fixed lengths, so nothing shifts into the name): a key
        # written on another day (UTC) reads as a miss, so the table holds only the chats
        # seen since midnight, and a chat that left (/forget) is gone from it by the next.
        day = int(time.time() // DAY_SECONDS).to_bytes(4, "big")
        return hashlib.blake2b(
            key + day + name, key=self._secret, digest_size=MAC_BYTES, person=b"krov-chat-key"
        ).digest()

    def get(self, name: bytes) -> bytes | None:
        """The key stored for `name` (what the caller hashed: the chat id with the hash's
        salt), or None."""
        at = self._place(name)
        slot = self._memory[at : at + SLOT_BYTES]
        mac, key = slot[:MAC_BYTES], slot[MAC_BYTES:]
        return key if mac == self._mac(name, key) else None

    def put(self, name: bytes, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a chat key has {KEY_BYTES} bytes")
        at = self._place(name)
        self._memory[at : at + SLOT_BYTES] = self._mac(name, key) + key

    def clear(self) -> None:
        self._memory[:] = bytes(len(self._memory))


TABLE = SharedTable()

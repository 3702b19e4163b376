"""Telegram chat ids: what ties a person's Telegram account to a case, kept where no key
on the server opens it.

The server sees a chat's id in the clear whenever an update arrives from it and needs it
again to answer. It stores it three ways, none of which its own keys open:

- `Chat.key`, the row's lookup key: Argon2id of the id (12 MiB, one pass) salted with a
  secret derived from `KROV_SECRET_KEY`. A chat id is a small number (some 10^10 of them),
  so this is a cost, not a wall: with the server's secret, trying every id takes a
  memory-hard computation of a CPU-year or more (hours to days on a farm of GPUs), where a
  keyed hash took seconds. Someone who already knows a suspect's id can test it at once
  (docs/threat-model.md says so). The processes of one app server share the keys they
  computed, in memory only (chat_key_table). The cost is paid at the webhook once per chat
  and app server (a few milliseconds): more memory or passes would slow a burst of new
  chats, which is when requests matter most.
- `Chat.sealed_id`: the id sealed to each running worker's outbox key (outbox_keys), so the
  worker can answer. A worker that stops takes its key along; the chat's next update seals
  the id to the workers running then.
- A requester's case keeps it as its contact (`HelpRequest.contact_handle`), sealed to the
  case's key: a reader (or the custodian) who hands the case key to a worker for a waiting
  answer lets that worker reach the chat again without the requester writing first.

A linked volunteer's chat also keeps its id under the field keys, like the rest of the
account (their email address is no better protected), so that offers reach them after a
restart. Updates are stored with the ids replaced by 0 once the id is sealed to a worker.
"""

from __future__ import annotations

import logging
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from django.db import transaction
from django.db.models import F
from django.utils.crypto import salted_hmac

from krov.core import sealing
from krov.telegram import chat_key_table, outbox_keys
from krov.telegram.models import Chat, Outbound

log = logging.getLogger(__name__)

# Argon2id at 12 MiB, one pass, one lane: some 4 ms here, once per chat and app server.
ARGON2_MEMORY_KIB = 12288
ARGON2_PASSES = 1

# What an outbound row waits for when no running worker can open its chat's id: the
# requester's next message (or a reader handing over the case key) seals it again.
WAITING_FOR_CHAT = "waiting for the chat to write again"
# The context's chat key for a message to a chat whose row is gone (the /forget answer).
GONE = "gone"


def _salt() -> bytes:
    return salted_hmac("krov.telegram.chat-key", "salt", algorithm="sha256").digest()[:16]


def chat_key(chat_id: int | str) -> str:
    """The lookup key of a chat: memory-hard, computed once per chat and app server (the
    processes gunicorn forks share what one of them computed, in memory: chat_key_table)."""
    secret, salt = str(int(chat_id)).encode(), _salt()
    found = chat_key_table.TABLE.get(salt + secret)
    if found is not None:
        return found.hex()
    key = hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=ARGON2_PASSES,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=1,
        hash_len=chat_key_table.KEY_BYTES,
        type=Type.ID,
    )
    chat_key_table.TABLE.put(salt + secret, key)
    return key.hex()


def contact_lookup(key: str) -> str:
    """What a Telegram requester's cases and chat carry to find each other (the id is sealed
    on both): a keyed hash of the chat's key (aid's keyed_hash, purpose "contact")."""
    return salted_hmac("krov.aid.contact", f"telegram:{key}", algorithm="sha256").hexdigest()


def info(outbox_public: str, key: str) -> str:
    """HPKE context: a chat's id sealed to one worker's outbox key."""
    return f"krov/v1/outbox-chat/{outbox_public}/{key}"


def seal_for_workers(chat_id: int, key: str, live: set[str] | None = None) -> dict[str, str]:
    """The chat's id sealed to every running worker ({outbox public key: sealed id})."""
    publics = outbox_keys.live_keys() if live is None else live
    return {public: sealing.seal(str(chat_id), public, info(public, key)) for public in publics}


def live_keys() -> set[str]:
    """The running workers' keys (and this process's own)."""
    return set(outbox_keys.live_keys()) | outbox_keys.held_publics()


def opens_now(chat: Chat, *, live: set[str] | None = None) -> bool:
    """Whether a running worker can open the chat's sealed id (the update may then be
    stored without it). `live`: the running workers' keys, as `live_keys()` gave them in
    this same transaction (the webhook asks once per update, not once per question)."""
    return bool((live_keys() if live is None else live).intersection(chat.sealed_id or {}))


def remember(chat: Chat, chat_id: int, *, live: set[str] | None = None) -> int:
    """The server sees this chat's id in the clear (an update from it): make sure every
    running worker can open it, keep a linked volunteer's under the field keys, and send
    what waited for it. Returns how many rows waited. `live` as for `opens_now`."""
    if not chat_id:
        return 0
    changed = []
    live = live_keys() if live is None else live
    if live and set(chat.sealed_id or {}) != live:
        chat.sealed_id = seal_for_workers(chat_id, chat.key, live)
        changed.append("sealed_id")
    wanted = str(chat_id) if chat.volunteer_id else ""
    if chat.chat_id != wanted:
        chat.chat_id = wanted
        changed.append("chat_id")
    if changed:
        chat.save(update_fields=changed)
    # Rows wait for the chat only while no running worker could open its id; that changes
    # only when the id is sealed again.
    if "sealed_id" in changed and chat.sealed_id:
        waiting = Outbound.objects.filter(
            chat=chat, status=Outbound.Status.WAITING, error=WAITING_FOR_CHAT
        ).update(status=Outbound.Status.QUEUED, next_try_at=F("created_at"), error="")
        if waiting:
            from krov.telegram import tasks

            transaction.on_commit(tasks.send_outbox)
        return waiting
    return 0


def open_id(chat: Chat) -> int | None:
    """The chat's id, if this process holds a worker key it was sealed to, or the chat is a
    linked volunteer's; None otherwise."""
    opened = outbox_keys.open_for_worker(
        chat.sealed_id or {}, lambda public: info(public, chat.key)
    )
    if opened is None and chat.chat_id:
        opened = str(chat.chat_id)
    try:
        return int(opened) if opened else None
    except ValueError:
        log.warning("a chat's sealed id is not a number: chat %s", chat.pk)
        return None


def strip(data: Any, chat_id: int) -> Any:
    """The update with every `"id": chat_id` (the chat's and the sender's) replaced by 0,
    and a button press's `chat_instance` (another stable name of the chat) blanked."""
    if isinstance(data, dict):
        return {
            name: 0
            if name == "id" and value == chat_id
            else ""
            if name == "chat_instance"
            else strip(value, chat_id)
            for name, value in data.items()
        }
    if isinstance(data, list):
        return [strip(value, chat_id) for value in data]
    return data

"""Webhook intake: accept, store, acknowledge; then process each chat's updates in order.

The webhook does only what must happen before the 200: check the body is an Update, store
it unique on update_id (a retry finds the row and is acknowledged without being processed
again) and nudge the worker. Processing is idempotent per update and ordered per chat."""

from __future__ import annotations

import functools
import json
import logging
import re
import traceback
from datetime import timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.models import Subquery
from django.utils import timezone

from krov.telegram.models import Update

log = logging.getLogger(__name__)

USED_KINDS = ("message", "callback_query")
# An edited message arrives as a message of its own, marked, so the correction reaches the
# case instead of being dropped (the dialogue adds it to an open case and nothing else).
EDITED = "krov_edited"
EDITED_MARK = "✎ "
MAX_BODY = 256 * 1024
MAX_ATTEMPTS = 3


class TryAgain(RuntimeError):
    """The update could not be sealed just now; answered 503 so that Telegram retries."""


class BadUpdate(ValueError):
    """The body is not a Telegram Update; the message says why, for the 400."""


# Telegram's updates nest a few levels (update → message → reply → chat); far more is an
# attack on the parsers that come after (python-telegram-bot recurses).
MAX_DEPTH = 32


def _too_deep(data: Any) -> bool:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(value, dict):
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)
    return False


# A lone surrogate reaches the parsed update only through a "\\uD800"-style escape, or as raw
# bytes ED A0..ED BF, which json.loads lets through ("surrogatepass"). A body with neither
# (nearly every body) needs no check of its own.
_MAY_HOLD_SURROGATES = re.compile(rb"\\u[dD][89a-fA-F]|\xed")


def _without_lone_surrogates(data: dict[str, Any]) -> dict[str, Any]:
    """JSON may carry "\\ud800" escapes that are no character at all; the database cannot
    store them. Each becomes U+FFFD, so the message still arrives, readable."""
    text = json.dumps(data, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        cleaned = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        return json.loads(cleaned)
    return data


def parse(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY:
        raise BadUpdate("body too large")
    try:
        data = json.loads(body)
    except RecursionError:
        raise BadUpdate("body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise BadUpdate("body is not JSON") from None
    if not isinstance(data, dict):
        raise BadUpdate("an Update is a JSON object")
    if _too_deep(data):
        raise BadUpdate("body is nested too deeply")
    if _MAY_HOLD_SURROGATES.search(body):
        data = _without_lone_surrogates(data)
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id < 2**53:
        raise BadUpdate("update_id missing or not an integer")
    return _edit_as_message(data)


def _edit_as_message(data: dict[str, Any]) -> dict[str, Any]:
    """`edited_message` becomes `message` with the EDITED flag; its text (or caption) starts
    with EDITED_MARK, so whoever reads the case sees it is a correction, in any language.
    Its formatting entities go: their offsets no longer fit the marked text."""
    edited = data.get("edited_message")
    if not isinstance(edited, dict) or "message" in data:
        return data
    data = {key: value for key, value in data.items() if key != "edited_message"}
    edited = dict(edited)
    for field, entities in (("text", "entities"), ("caption", "caption_entities")):
        if isinstance(edited.get(field), str):
            edited[field] = EDITED_MARK + edited[field]
            edited.pop(entities, None)
            break
    data["message"] = edited
    data[EDITED] = True
    return data


def chat_id_of(data: dict[str, Any]) -> int | None:
    """The private chat an update belongs to, read defensively from the raw JSON."""
    for kind in USED_KINDS:
        obj = data.get(kind)
        if not isinstance(obj, dict):
            continue
        holder = obj.get("message") if kind == "callback_query" else obj
        chat = holder.get("chat") if isinstance(holder, dict) else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return chat["id"]
        sender = obj.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return sender["id"]
    return None


def callback_id_of(data: dict[str, Any]) -> str:
    """A button press's id (the webhook answers it in its reply), or ""."""
    query = data.get("callback_query")
    value = query.get("id") if isinstance(query, dict) else None
    return value if isinstance(value, str) and len(value) <= 64 else ""


def _forget_callback_id(data: dict[str, Any]) -> None:
    """A button press's id packs the sender's Telegram id: it is answered at the webhook and
    never stored."""
    query = data.get("callback_query")
    if isinstance(query, dict) and "id" in query:
        query["id"] = ""


def _private(data: dict[str, Any], chat_id: int) -> tuple[bool, str]:
    """Whether the update comes from a private chat, and its sender's language code."""
    for kind in USED_KINDS:
        obj = data.get(kind)
        if not isinstance(obj, dict):
            continue
        sender = obj.get("from")
        hint = sender.get("language_code") if isinstance(sender, dict) else None
        holder = obj.get("message") if kind == "callback_query" else obj
        chat = holder.get("chat") if isinstance(holder, dict) else None
        if isinstance(chat, dict):
            return chat.get("type") == "private", hint if isinstance(hint, str) else ""
        return isinstance(sender, dict) and sender.get("id") == chat_id, ""
    return False, ""


def _private_chat(data: dict[str, Any], chat_id: int | None, *, live: set[str] | None = None):
    """The chat row of a private chat's update (made on its first update; its id is sealed
    to the running workers there, chat_ids); None for groups and channels."""
    from krov.telegram import services

    if chat_id is None:
        return None
    private, hint = _private(data, chat_id)
    if not private:
        return None
    return services.get_or_create_chat(chat_id, language_hint=hint, live=live)


class _Repeat(Exception):
    """The update_id was stored before: what was sealed for this copy is rolled back."""


def store(data: dict[str, Any]) -> bool:
    """Store one update; False when this update_id was seen before.

    One statement decides (`_insert`: INSERT ... ON CONFLICT DO NOTHING), not a look-up
    followed by an insert: a retry costs the same single round trip as a new update, and
    two copies arriving together cannot both be stored."""
    from krov.aid.services.keys import sealing_ready
    from krov.telegram import chat_ids, services
    from krov.telegram.sealed_intake import SealingUnavailable, seal_update

    chat_id = chat_id_of(data)
    update_id = data["update_id"]
    if chat_id is None or not any(kind in data for kind in USED_KINDS):
        return _insert(update_id, "", "", Update.Status.IGNORED)
    key = services.chat_key(chat_id)
    _forget_callback_id(data)
    if not sealing_ready():
        # Before a team key exists nothing is sealed (the case texts are under the field
        # keys too): the worker makes the chat and seals its id.
        data = seal_update(data, key, chat=None, ready=False)
        stored = _insert(update_id, key, _encoded(data), Update.Status.PENDING)
    else:
        # The running workers' keys are read before the transaction: on SQLite it holds
        # the database's one write lock from its first statement (BEGIN IMMEDIATE), and
        # another worker's update waits, sleeping, for as long as this one keeps it. The
        # chat's row is read under the lock: which case or pending key the update is
        # sealed to must be what the worker has committed (a follow-up sent while the
        # worker turns the description into a case goes to that case).
        live = chat_ids.live_keys()
        try:
            with transaction.atomic():
                chat = _private_chat(data, chat_id, live=live)
                data = seal_update(data, key, chat=chat, ready=True)
                if chat is not None and chat_ids.opens_now(chat, live=live):
                    # Its id is sealed to the running workers: the update carries 0
                    # instead. While no worker runs, it keeps it (under the field keys,
                    # dropped once processed) and the worker seals it.
                    data = chat_ids.strip(data, chat_id)
                if not _insert(update_id, key, _encoded(data), Update.Status.PENDING):
                    raise _Repeat
            stored = True
        except _Repeat:
            stored = False  # a retry: acknowledged; nothing made for it is kept
        except SealingUnavailable:
            if Update.objects.filter(update_id=update_id).exists():
                return False  # a retry of an update stored before the renewal began
            raise TryAgain from None
    if stored:
        transaction.on_commit(lambda: _nudge_unless_queued_behind(key, update_id))
    return stored


def _nudge_unless_queued_behind(key: str, update_id: int) -> None:
    """Nudge the worker, unless an earlier update of the chat is still pending: whatever
    takes that one (its nudge or the sweep) goes on in update_id order and finds this one,
    committed before it was asked. So the queue gets a write per chat that starts waiting,
    not per update, and it names this update, not the chat. Runs after this update's
    commit, never before."""
    try:
        behind = _older_pending(key, update_id)
    except DatabaseError:
        behind = False
    if not behind:
        nudge(update_id)


def _older_pending(key: str, update_id: int) -> bool:
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        cursor.execute(_sql(db.vendor)["older_pending"], [key, PENDING, update_id])
        return cursor.fetchone() is not None


def _encoded(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


_INSERTED = ("update_id", "chat_key", "payload", "status", "attempts", "error", "received_at")
PENDING = Update.Status.PENDING.value


@functools.cache
def _sql(vendor: str) -> dict[str, str]:
    """The webhook's two statements, written once per process from the models' names:
    the ORM's query building cost more than running them."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name

    def column(model, name: str) -> str:
        field = next(f for f in model._meta.concrete_fields if f.name == name)
        return quote(str(field.column))

    table = quote(Update._meta.db_table)
    # Table and column names from the models; values always as parameters.
    return {
        "insert": (
            f"INSERT INTO {table} ({', '.join(column(Update, n) for n in _INSERTED)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(_INSERTED))}) "
            f"ON CONFLICT ({column(Update, 'update_id')}) DO NOTHING"
        ),
        "older_pending": (
            f"SELECT 1 FROM {table} WHERE {column(Update, 'chat_key')} = %s "  # noqa: S608
            f"AND {column(Update, 'status')} = %s AND {column(Update, 'update_id')} < %s LIMIT 1"
        ),
    }


def _insert(update_id: int, key: str, payload: str, status: str) -> bool:
    """INSERT the update unless its update_id is stored already (SQLite and PostgreSQL both
    have ON CONFLICT DO NOTHING); True when this call stored it. Values go through the
    fields, so the payload is encrypted as the ORM would."""
    db = connections[DEFAULT_DB_ALIAS]
    fields = _fields()
    values = (update_id, key, payload, status, 0, "", timezone.now())
    params = [
        field.get_db_prep_save(value, db) for field, value in zip(fields, values, strict=True)
    ]
    with db.cursor() as cursor:
        cursor.execute(_sql(db.vendor)["insert"], params)
        return cursor.rowcount == 1


@functools.cache
def _fields() -> list:
    by_name = {field.name: field for field in Update._meta.concrete_fields}
    return [by_name[name] for name in _INSERTED]


def nudge(update: int | str) -> None:
    """Enqueue processing for an update's chat once the update is committed: one write to
    the queue, no cache round trip to spare the queue a duplicate (a duplicate finds nothing
    pending and costs the worker one query, `tasks.process_chat`; the webhook sends none
    while an earlier update of the chat waits, `_nudge_unless_queued_behind`). The update is
    stored already: with the queue down the nudge is lost, not the update (the worker's
    sweep, `drain`, takes it), and Telegram still gets its 200.

    The queue gets the update's id, never the chat's lookup key: whoever images the queue
    (Redis, or the embedded SQLite file) must not see when a given chat wrote. `update` may
    be a chat's key (reprocessing parked updates names chats): it stands for the chat's
    first pending update, looked up once committed."""
    transaction.on_commit(lambda: _enqueue(update))


def _enqueue(update: int | str) -> None:
    from krov.telegram import tasks

    try:
        update_id = update if isinstance(update, int) else first_pending(update)
        if update_id is not None:
            tasks.process_chat(update_id)
    except Exception as error:  # noqa: BLE001 - the queue's failure (Redis down)
        log.warning(
            "telegram nudge not queued (%s); the sweep takes the update", type(error).__name__
        )


def first_pending(key: str) -> int | None:
    """The update_id of the chat's first pending update, or None."""
    return (
        Update.objects.filter(chat_key=key, status=Update.Status.PENDING)
        .order_by("update_id")
        .values_list("update_id", flat=True)
        .first()
    )


def pending_chat_of(update_id: int) -> str | None:
    """The key of the chat `update_id` belongs to, while that chat has updates pending (this
    one or later ones: the webhook nudged only the first of them); None when none is left.
    One query, the price of a nudge that finds its work done."""
    chat = Update.objects.filter(update_id=update_id).values("chat_key")[:1]
    return (
        Update.objects.filter(chat_key=Subquery(chat), status=Update.Status.PENDING)
        .order_by("update_id")
        .values_list("chat_key", flat=True)
        .first()
    )


def process_chat(key: str) -> int:
    """Process this chat's pending updates in update_id order; returns how many were done.
    The caller holds the chat's lock, so one worker at a time works on a chat."""
    from krov.telegram import dialogue, parser

    done = 0
    while True:
        update = (
            Update.objects.filter(chat_key=key, status=Update.Status.PENDING)
            .order_by("update_id")
            .first()
        )
        if update is None:
            return done
        try:
            raw = json.loads(update.payload)
            sealed = raw.pop("krov_sealed", None)
            edited = raw.pop(EDITED, False) is True
            # Lenient: malformed optional parts are dropped, the message still goes on.
            parsed = parser.parse(raw)
        except parser.Unusable as exc:
            _park(update, f"unparseable: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - any other parse error: unusable too
            _park(update, f"unparseable: {type(exc).__name__}")
            continue
        try:
            with transaction.atomic():
                dialogue.handle(
                    parsed,
                    sealed=sealed if isinstance(sealed, dict) else None,
                    edited=edited,
                    chat_key=key,
                )
                Update.objects.filter(pk=update.pk).update(
                    status=Update.Status.DONE, payload="", processed_at=timezone.now()
                )
        except Exception as exc:
            attempts = update.attempts + 1
            log.error(
                "telegram update %s failed (attempt %s): %s",
                update.update_id,
                attempts,
                _where(exc),
            )
            if attempts >= MAX_ATTEMPTS:
                _park(update, f"{type(exc).__name__}")
                continue
            Update.objects.filter(pk=update.pk).update(
                attempts=attempts, error=type(exc).__name__[:200]
            )
            raise  # the task retries later; later updates of this chat wait their turn
        done += 1


def _where(exc: BaseException) -> str:
    """Where processing failed: each exception's type and frames, never its message (a
    database's constraint error quotes the row's values, the chat's key among them; any
    error may carry a chat id)."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"{type(current).__qualname__}\n{frames}")
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "which came from ".join(parts).rstrip()


def _park(update: Update, reason: str) -> None:
    """Keep the update for an administrator, without the chat's id: it may wait a whole
    retention period, and the chat's row keeps the id sealed (chat_ids)."""
    from krov.telegram import chat_ids

    log.warning("telegram update %s parked: %s", update.update_id, reason)
    payload = update.payload
    try:
        raw = json.loads(payload)
    except ValueError:
        raw = None
    chat_id = chat_id_of(raw) if isinstance(raw, dict) else None
    if chat_id:
        payload = json.dumps(chat_ids.strip(raw, chat_id), ensure_ascii=False)
    Update.objects.filter(pk=update.pk).update(
        status=Update.Status.PARKED,
        error=reason[:200],
        attempts=update.attempts + 1,
        payload=payload,
    )


def pending_chats(older_than_seconds: int = 30, *, after: str = "", limit: int = 500) -> list[str]:
    """Chats with updates pending for longer than `older_than_seconds` (their nudge may be
    lost), each once, in key order from `after` on: a sweep pages through all of them."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Update.objects.filter(
            status=Update.Status.PENDING, received_at__lt=cutoff, chat_key__gt=after
        )
        .order_by("chat_key")  # not Meta's update_id: DISTINCT would count it in
        .values_list("chat_key", flat=True)
        .distinct()[:limit]
    )

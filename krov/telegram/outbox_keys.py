"""Outbox keys: an answer to a Telegram requester waits for the Bot API sealed to a key
whose private half only a running worker holds, in memory.

A requester's answer must reach Telegram in the clear, so the server sees it while it
passes through; it must not wait in the database in a form the server's own keys open
(the field keys sit beside the data). Each worker process makes an X25519 key pair when
it starts (or first sends), keeps the private half in this module's memory and publishes
the public half as an `OutboxKey`, renewing `seen_at` every minute. An answer is sealed to
every worker key seen lately; the worker that sends it opens it, composes the message in
the requester's language and sends it; a sent row keeps no text.

A key is live only while its row carries a proof, under KROV_SECRET_KEY (which is not in
the database), of that key *and of the time it was announced* (`seen_at`), and that time
is within `STALE`. Someone who can write to the database but lacks the secret can neither
announce a key of their own nor make a stopped worker's key live again (whose private half
they may have got hold of) by renewing `seen_at` beside an old proof, or by putting back a
deleted row: a proof holds for the one `seen_at` it was made for.

A worker that stops takes its key with it. A key not seen for `STALE` is deleted, and
answers sealed only to such keys (or queued while no worker ran) wait, text-less, until a
reader who can open the case (a coordinator's browser, the key custodian) hands the case's
key to a running worker, sealed to that worker's key (`waiting_for_readers`, `reseal`). The
worker then opens the stored answer itself: whoever sent it again cannot change a word of
what the requester receives; a key that does not open the answer sends nothing. So a
restart loses no answer, and a seized server, switched off, holds none that any key opens.
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.dateparse import parse_datetime

from krov.core import sealing
from krov.telegram.models import Outbound, OutboxKey

log = logging.getLogger(__name__)

STALE = timedelta(minutes=3)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# public half -> private half, for the keys this process made. Never written anywhere.
_held: dict[str, bytes] = {}


# An outbox row of this method sends a requester's file (photo, voice, document) to a
# volunteer's chat: what is sealed is its Telegram reference ("photo:<file_id>").
ATTACHMENT_METHOD = "send_attachment"


def info(outbox_public: str, message_id: str, field: str = "") -> str:
    """HPKE context: the text (or, with `field` "attachment", the file reference) of one aid
    message, sealed to one worker's outbox key."""
    return f"krov/v1/outbox/{outbox_public}/{message_id}" + (f"/{field}" if field else "")


def runs_tasks_here() -> bool:
    """Whether this process is a worker: the Huey consumer, or any process when tasks run
    inline (the embedded immediate mode the tests use)."""
    return bool(getattr(settings, "HUEY", {}).get("immediate"))


def hold() -> str:
    """This process's outbox key, made on first use and announced while it lives; returns
    its public half. A key whose row is gone (deleted as stale, or the database was
    replaced) is dropped from memory and a new one made. The row is found by its key alone
    and its proof written anew with `seen_at`, in one UPDATE: whatever proof it had before
    (an older one, or one made under a secret since replaced) counts for nothing."""
    # Whole seconds: the time every database gives back exactly as it was written.
    now = timezone.now().replace(microsecond=0)
    for public in list(_held):
        if OutboxKey.objects.filter(public=public).update(seen_at=now, proof=proof(public, now)):
            return public
        forget(public)
    pair = sealing.KeyPair.generate()
    OutboxKey.objects.create(
        public=pair.public, created_at=now, seen_at=now, proof=proof(pair.public, now)
    )
    _held[pair.public] = pair.private
    return pair.public


def proof(public: str, seen_at: datetime) -> str:
    """What a worker writes beside its public key each time it announces it: a keyed hash,
    under KROV_SECRET_KEY (which is not in the database), of the key and of `seen_at` (the
    instant, to the microsecond). Someone who can write to the database but lacks that
    secret (a database host, a replica, an injected statement) cannot announce a key of
    their own, nor keep a stopped worker's key live with a proof it once wrote: a proof
    holds only beside the `seen_at` it was made for, and that goes stale."""
    return salted_hmac(
        "krov.telegram.outbox-key", f"{public}@{_instant(seen_at)}", algorithm="sha256"
    ).hexdigest()


def _instant(seen_at: datetime) -> int:
    """`seen_at` as whole microseconds since 1970 UTC: one form for the same instant,
    whatever its time zone or the database it came from."""
    if timezone.is_naive(seen_at):
        raise ValueError("an outbox key's time must be aware")
    return (seen_at - _EPOCH) // _MICROSECOND


def _stored_instant(value: object) -> int | None:
    """`_instant` of a `seen_at` as a plain SELECT returns it: SQLite gives text, UTC and
    naive; PostgreSQL an aware datetime (the field's own converters, done by hand)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, connection.timezone)
    return _instant(value)


def forget(public: str | None = None) -> None:
    """Drop a held key (or all of them) from memory, as a stopping worker does."""
    for key in [public] if public else list(_held):
        _held.pop(key, None)


def live_keys() -> list[str]:
    """The public keys of the workers running now: announced within STALE, beside a proof
    made under KROV_SECRET_KEY for that key and that very `seen_at`. The webhook asks it
    for every update, so it is one plain SELECT written once per process, and each
    announcement's proof is checked once per process."""
    if runs_tasks_here():
        hold()
    return _announced()


def _announced() -> list[str]:
    """`live_keys` without making or renewing this process's own key."""
    since = OutboxKey._meta.get_field("seen_at").get_db_prep_value(
        timezone.now() - STALE, connection
    )
    with connection.cursor() as cursor:
        cursor.execute(_live_keys_sql(connection.vendor), [since])
        rows = cursor.fetchall()
    secret = settings.SECRET_KEY
    return [
        public
        for public, seen_at, made in rows
        if (instant := _stored_instant(seen_at)) is not None
        and _proven(public, instant, made, secret)
    ]


@functools.lru_cache(maxsize=256)
def _proven(public: str, instant: int, made: str, secret: str) -> bool:
    """Whether `made` is the proof of `public` announced at `instant` (`_instant`) under
    `secret`. All four are the cache's key: an answer remembered for one announcement is
    never reused for another time, proof or secret."""
    seen_at = _EPOCH + instant * _MICROSECOND
    return constant_time_compare(made, proof(public, seen_at))


@functools.cache
def _live_keys_sql(vendor: str) -> str:
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        field = next(f for f in OutboxKey._meta.concrete_fields if f.name == name)
        return quote(str(field.column))

    # Names from the model; the time always as a parameter.
    return (
        f"SELECT {column('public')}, {column('seen_at')}, {column('proof')} "  # noqa: S608
        f"FROM {quote(OutboxKey._meta.db_table)} WHERE {column('seen_at')} >= %s"
    )


def seal_for_workers(message_id: str, text: str, field: str = "") -> dict[str, str]:
    """`text` sealed to every running worker; empty when none runs (the answer then waits
    for a reader's browser)."""
    return {
        public: sealing.seal(text, public, info(public, message_id, field))
        for public in live_keys()
    }


def open_for_worker(sealed: dict[str, str], context) -> str | None:
    """What `sealed` ({worker key: sealed value}) holds, if this process holds one of those
    keys; `context(public)` names the HPKE context it was sealed with."""
    for public, value in (sealed or {}).items():
        private = _held.get(public)
        if private is None or not isinstance(value, str):
            continue
        try:
            return sealing.open_sealed(value, private, context(public))
        except (sealing.SealingError, ValueError):
            log.warning("a value does not open with the worker key it names")
    return None


def open_bytes_for_worker(sealed: dict[str, str], context) -> bytes | None:
    """`open_for_worker` for bytes (a case's private key a reader handed to the workers)."""
    for public, value in (sealed or {}).items():
        private = _held.get(public)
        if private is None or not isinstance(value, str):
            continue
        try:
            return sealing.open_bytes(value, private, context(public))
        except (sealing.SealingError, ValueError):
            log.warning("a value does not open with the worker key it names")
    return None


def _handed_case_key(row: Outbound, message) -> bytes | None:
    """The case's private key a reader handed to this worker for this row's answer."""
    message_id = str(message.public_id)
    for public, sealed in (row.sealed or {}).items():
        private = _held.get(public)
        if private is None:
            continue
        try:
            return sealing.open_bytes(
                sealed, private, sealing.outbox_case_key_info(public, message_id)
            )
        except (sealing.SealingError, ValueError):
            log.warning("an outbox row does not open with the key it names: %s", row.pk)
    return None


def open_held(row: Outbound, message) -> str | None:
    """The text of a sealed row's answer (`message`, the aid message it sends), if this
    process holds one of the keys it was sealed to. A row sent again by a reader holds the
    case's key: the answer is opened from the stored message with it, so only the text the
    case holds can go out."""
    message_id = str(message.public_id)
    attachment = row.method == ATTACHMENT_METHOD
    if not row.sealed_case_key:
        field = "attachment" if attachment else ""
        return open_for_worker(row.sealed, lambda public: info(public, message_id, field))
    case_private = _handed_case_key(row, message)
    if case_private is None:
        return None
    case_id = str(message.request.public_id)
    stored, field = (
        (message.attachment_ref, "message.attachment") if attachment else (message.body, "message")
    )
    try:
        return sealing.open_sealed(stored, case_private, sealing.content_info(case_id, field))
    except (sealing.SealingError, ValueError):
        # ValueError: 'a key' that is no X25519 key at all, or a text that is no UTF-8.
        log.warning("an outbox row does not open with the key it names: %s", row.pk)
    return None


def open_contact(row: Outbound) -> str | None:
    """A Telegram requester's chat id from their case (sealed to the case's key), with the
    case key a reader handed to this worker for this row; None without one, and for any
    chat that is not that requester's own (a volunteer's chat never gets it)."""
    message = row.aid_message
    chat = row.chat
    if not row.sealed_case_key or message is None or chat is None or chat.volunteer_id:
        return None
    case = message.request
    if not case.contact_lookup or case.contact_lookup != chat.contact_lookup:
        return None
    if not sealing.is_sealed(case.contact_handle):
        return case.contact_handle or None  # a case from before sealing: as it was
    case_private = _handed_case_key(row, message)
    if case_private is None:
        return None
    try:
        return sealing.open_sealed(
            case.contact_handle,
            case_private,
            sealing.content_info(str(case.public_id), "request.contact"),
        )
    except (sealing.SealingError, ValueError):
        log.warning("a case's contact does not open with the key handed over: %s", row.pk)
    return None


def held_publics() -> set[str]:
    return set(_held)


@transaction.atomic
def retire_stale() -> int:
    """Delete keys no worker has announced lately; answers sealed only to keys that are not
    live (deleted now, or kept fresh beside a proof that does not hold for them) lose their
    ciphertext and wait for a reader's browser. Returns how many rows now wait."""
    since = timezone.now() - STALE
    stale = set(OutboxKey.objects.filter(seen_at__lt=since).values_list("public", flat=True))
    if stale:
        OutboxKey.objects.filter(public__in=stale).delete()
    # What live_keys() gives, not every row: a row renewed without the secret keeps nothing
    # sealed to it queued for a worker that is not there.
    live = set(_announced())
    if stale:
        # Chats whose id was sealed to a stopped worker: sealed again by their next update.
        from krov.telegram.models import Chat

        for chat in Chat.objects.exclude(sealed_id={}).only("pk", "sealed_id").iterator():
            if stale.intersection(chat.sealed_id or {}):
                keep = {k: v for k, v in chat.sealed_id.items() if k not in stale}
                Chat.objects.filter(pk=chat.pk).update(sealed_id=keep)
    # A message to a chat that is gone, whose id only a stopped worker could open: nobody
    # can send it any more.
    for row in Outbound.objects.filter(
        status__in=[Outbound.Status.QUEUED, Outbound.Status.SENDING], chat__isnull=True
    ).exclude(sealed_chat={}):
        if not live.intersection(row.sealed_chat):
            Outbound.objects.filter(pk=row.pk).update(
                status=Outbound.Status.FAILED,
                params="{}",
                sealed_chat={},
                error="its worker stopped",
            )
    waiting = 0
    rows = Outbound.objects.select_for_update().filter(
        status__in=[Outbound.Status.QUEUED, Outbound.Status.SENDING], aid_message__isnull=False
    )
    for row in rows:
        if not row.sealed:
            continue
        keep = {public: sealed for public, sealed in row.sealed.items() if public in live}
        if keep == row.sealed:
            continue
        if keep:
            Outbound.objects.filter(pk=row.pk).update(sealed=keep)
        else:
            Outbound.objects.filter(pk=row.pk).update(
                sealed={},
                sealed_case_key=False,
                status=Outbound.Status.WAITING,
                error="its worker stopped",
            )
            waiting += 1
    return waiting


# --- answers that wait for a reader ---------------------------------------------------------


def waiting_for_readers() -> list[tuple[int, list[str]]]:
    """(aid message id, running workers' keys) for each answer that waits for a reader to
    hand its case's key to a running worker; answers the server can read itself (a case
    from before sealing) are sealed again here and do not wait."""
    from krov.telegram import outbox, services

    rows = list(
        Outbound.objects.filter(status=Outbound.Status.WAITING, aid_message__isnull=False)
        .select_related("aid_message", "case", "chat__volunteer__user")
        .order_by("id")[:50]
    )
    deliverable = []
    for row in rows:
        if services.may_reach(row):
            deliverable.append(row)
        else:  # its volunteer changed, unlinked or panicked: no reader is asked to send it
            outbox.drop(row, "no longer this chat's case")
    live = live_keys()
    if not deliverable or not live:
        return []
    found = []
    for row in deliverable:
        message = row.aid_message
        if message is None:
            continue
        if not sealing.is_sealed(message.body):
            if row.method != ATTACHMENT_METHOD:
                _queue(message.pk, seal_for_workers(str(message.public_id), message.body))
            continue
        found.append((message.pk, live))
    return found


def reseal(message_pk: int, sealed: dict[str, str]) -> bool:
    """A reader sent a waiting answer again: `sealed` is {worker key: the case's private key
    sealed to it}; the worker opens the stored answer with it. False when nothing waits for
    that message or none of the keys is a running worker's."""
    return _queue(message_pk, sealed, case_key=True)


@transaction.atomic
def _queue(message_pk: int, sealed: dict[str, str], *, case_key: bool = False) -> bool:
    live = set(live_keys())
    keep = {
        public: value
        for public, value in sealed.items()
        if public in live and isinstance(value, str) and sealing.is_sealed(value)
    }
    if not keep:
        return False
    updated = Outbound.objects.filter(
        aid_message_id=message_pk, status=Outbound.Status.WAITING
    ).update(
        sealed=keep,
        sealed_case_key=case_key,
        status=Outbound.Status.QUEUED,
        next_try_at=timezone.now(),
        error="",
        attempts=0,
    )
    if updated:
        from krov.telegram import tasks

        transaction.on_commit(tasks.send_outbox)
    return bool(updated)

"""The outbound queue: rows in, Bot API calls out, within Telegram's limits.

About 30 messages a second overall, one a second per private chat, twenty a minute per
group or channel. 429 waits `retry_after`; 5xx and network errors back off exponentially;
403 marks the chat blocked and tells the volunteer; 400 fails the row for good. A row a
crashed worker left in "sending" is retried when its lease ends, so nothing stays behind.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from krov.telegram import client as client_module
from krov.telegram import outbox_keys
from krov.telegram.models import Chat, Outbound

log = logging.getLogger(__name__)

GLOBAL_PER_SECOND = 30
WINDOW_SECONDS = 1.05
RENEW_EVERY = 5.0  # seconds between renewals of the sender's lease (tasks.OUTBOX_LEASE_SECONDS)
CHANNEL_SPACING = timedelta(seconds=3)  # 20 a minute
# A row claimed by a worker that died mid-call goes again after this: longer than a call
# may take (10 s, or 300 s to upload a file of Krov's own, such as an audio bulletin), so a
# live worker always finishes first.
SENDING_LEASE = timedelta(seconds=30)
UPLOAD_LEASE = timedelta(seconds=client_module.UPLOAD_TIMEOUT + 30)
MAX_ATTEMPTS = 8


def enqueue(
    method: str,
    params: dict[str, Any],
    *,
    chat: Chat | None = None,
    channel: str = "",
    aid_message=None,
    case=None,
    sealed: dict[str, str] | None = None,
    sealed_chat: dict[str, str] | None = None,
) -> Outbound:
    """Store a call to make; the worker is nudged when the transaction commits. With
    `sealed` (an answer's text sealed to the workers, see outbox_keys) the worker composes
    the text; an empty `sealed` means no worker runs, and the row waits for a reader."""
    row = Outbound.objects.create(
        chat=chat,
        channel=channel,
        method=method,
        params=json.dumps(params, ensure_ascii=False),
        aid_message=aid_message,
        case=case,
        sealed=sealed or {},
        sealed_chat=sealed_chat or {},
        status=Outbound.Status.WAITING if sealed == {} else Outbound.Status.QUEUED,
    )
    from krov.telegram import tasks

    transaction.on_commit(tasks.send_outbox)
    return row


def next_due() -> datetime | None:
    """When the next queued row (or one a dead worker left "sending") falls due."""
    return Outbound.objects.filter(
        status__in=[Outbound.Status.QUEUED, Outbound.Status.SENDING]
    ).aggregate(first=Min("next_try_at"))["first"]


def due_now() -> bool:
    return Outbound.objects.filter(
        status=Outbound.Status.QUEUED, next_try_at__lte=timezone.now()
    ).exists()


def chat_spacing() -> timedelta:
    return timedelta(milliseconds=settings.KROV_TELEGRAM_CHAT_SPACING_MS)


def _claim(now: datetime, left: list[int] | None = None) -> Outbound | None:
    """The oldest due row, claimed with a conditional UPDATE (safe with several workers).
    `left` counts the due rows passed over because another running worker sends them."""
    candidates = Outbound.objects.filter(
        Q(status=Outbound.Status.QUEUED, next_try_at__lte=now)
        | Q(status=Outbound.Status.SENDING, next_try_at__lte=now)  # lease ran out: crashed
    ).order_by("next_try_at", "id")
    from krov.telegram import services

    held = outbox_keys.held_publics()
    live = set(outbox_keys.live_keys())
    for row in candidates.select_related("chat__volunteer__user", "case")[:20]:
        if row.sealed and not held.intersection(row.sealed):
            if left is not None:
                left.append(row.pk)
            continue  # sealed to another worker: that one sends it
        if row.sealed_chat and not held.intersection(row.sealed_chat):
            if left is not None:
                left.append(row.pk)
            continue
        spacing = chat_spacing()
        chat = row.chat
        if chat is not None and chat.last_sent_at and chat.last_sent_at + spacing > now:
            continue
        if chat is not None and not row.sealed_case_key and _opened_elsewhere(chat, held, live):
            if left is not None:
                left.append(row.pk)
            continue  # a requester's chat whose id another running worker opens: it sends
        if chat is not None and _older_unsent(row):
            continue  # a chat gets its messages in order, also after a crash mid-send
        claimed = Outbound.objects.filter(
            pk=row.pk, status=row.status, next_try_at=row.next_try_at
        ).update(
            status=Outbound.Status.SENDING,
            next_try_at=now
            + (UPLOAD_LEASE if client_module.MEDIA_REFERENCE in row.params else SENDING_LEASE),
            attempts=row.attempts + 1,
        )
        if claimed:
            row.refresh_from_db()
            if not services.may_reach(row):
                drop(row, "no longer this chat's case")
                continue
            return row
    return None


def _opened_elsewhere(chat: Chat, held: set[str], live: set[str]) -> bool:
    """A requester's chat whose id is sealed to another running worker but not to this
    one: that worker sends its rows."""
    sealed = set(chat.sealed_id or {})
    return chat.volunteer_id is None and not held & sealed and bool(live & sealed)


def _older_unsent(row: Outbound) -> bool:
    return Outbound.objects.filter(
        chat=row.chat,
        id__lt=row.pk,
        status__in=[Outbound.Status.QUEUED, Outbound.Status.SENDING],
    ).exists()


def drop(row: Outbound, reason: str) -> None:
    """A row that must never be sent: it fails with what it carried wiped."""
    Outbound.objects.filter(pk=row.pk).update(
        status=Outbound.Status.FAILED,
        error=reason,
        params="{}",
        sealed={},
        sealed_chat={},
        sealed_case_key=False,
    )


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 2 ** min(attempts, 10)))


def _finish(row: Outbound, *, now: datetime, result: Any) -> None:
    message_id = getattr(result, "message_id", None)
    # The text is not needed once sent: keep only what routes a volunteer's reply.
    Outbound.objects.filter(pk=row.pk).update(
        status=Outbound.Status.SENT,
        sent_at=now,
        error="",
        telegram_message_id=message_id,
        params="{}",
        sealed={},
        sealed_chat={},
        sealed_case_key=False,
    )
    if row.chat_id:
        Chat.objects.filter(pk=row.chat_id).update(last_sent_at=now)
    if row.aid_message_id:
        from krov.aid import services as aid

        aid.mark_delivery(row.aid_message_id, delivered=True)


def _fail(row: Outbound, error: str, *, blocked: bool) -> None:
    # A sealed text or a case key handed to the workers is not kept for a row that failed.
    Outbound.objects.filter(pk=row.pk).update(
        status=Outbound.Status.FAILED,
        error=error[:200],
        sealed={},
        sealed_chat={},
        sealed_case_key=False,
    )
    if row.aid_message_id:
        from krov.aid import services as aid

        aid.mark_delivery(row.aid_message_id, delivered=False)
    if blocked and row.chat_id:
        Chat.objects.filter(pk=row.chat_id).update(blocked=True)
        from krov.telegram import services

        services.chat_blocked(row)


def _wait_for_reader(row: Outbound) -> None:
    """This worker cannot open the row: it waits for a reader to hand its case's key to a
    running worker. A failed open is not a failed call, so it is not counted as an attempt."""
    Outbound.objects.filter(pk=row.pk).update(
        sealed={},
        sealed_case_key=False,
        status=Outbound.Status.WAITING,
        error="could not be opened here",
        attempts=max(0, row.attempts - 1),
    )


def _open_sealed_text(row: Outbound, params: dict[str, Any]) -> str | None:
    """The text of a sealed row: its opened body between the frame stored in the clear
    (`before`, `after`: the header and hint in the reader's language, no case content).
    None (and the row waits for a reader) when this worker cannot open it; None (and the
    row fails) when its message is gone."""
    message = row.aid_message
    if message is None or row.chat is None:  # purged or forgotten meanwhile
        drop(row, "its message is gone")
        return None
    body = outbox_keys.open_held(row, message)
    if body is None:
        _wait_for_reader(row)
        return None
    return str(params.pop("before", "")) + body + str(params.pop("after", ""))


def _chat_id(row: Outbound) -> int | None:
    """Where the row goes: the chat's id, opened with this worker's key (chat_ids), or with
    the case key a reader handed over. None (and the row waits) when it cannot be opened
    here: an answer waits for a reader, anything else for the chat's next message."""
    from krov.telegram import chat_ids

    if row.chat is None:
        opened = outbox_keys.open_for_worker(
            row.sealed_chat, lambda public: chat_ids.info(public, chat_ids.GONE)
        )
        if opened is None:
            drop(row, "its chat is gone")
            return None
        return int(opened)
    chat = row.chat
    found = chat_ids.open_id(chat)
    if found is None:
        contact = outbox_keys.open_contact(row)
        if contact:
            found = int(contact)
            # The chat's other rows need no reader now. If some waited for it, this one goes
            # back to the queue with them, all due in the order they were made.
            if chat_ids.remember(chat, found):
                Outbound.objects.filter(pk=row.pk).update(
                    status=Outbound.Status.QUEUED,
                    next_try_at=F("created_at"),
                    attempts=max(0, row.attempts - 1),
                )
                return None
    if found is not None:
        return found
    if row.aid_message_id:
        _wait_for_reader(row)
    else:
        Outbound.objects.filter(pk=row.pk).update(
            status=Outbound.Status.WAITING,
            error=chat_ids.WAITING_FOR_CHAT,
            attempts=max(0, row.attempts - 1),
        )
    return None


# A requester's file, sent on by its Telegram reference: the Bot API method and parameter.
ATTACHMENT_CALLS = {
    "photo": ("send_photo", "photo"),
    "voice": ("send_voice", "voice"),
    "document": ("send_document", "document"),
    "video": ("send_video", "video"),
    "audio": ("send_audio", "audio"),
    "animation": ("send_animation", "animation"),
    "video_note": ("send_video_note", "video_note"),
}


def _open_sealed_attachment(row: Outbound) -> tuple[str, str, str] | None:
    """(method, parameter, file id) of a sealed file row; None when this worker cannot open
    it (it waits for a reader, as a text does) or it is gone (the row fails)."""
    message = row.aid_message
    if message is None or row.chat is None:
        drop(row, "its message is gone")
        return None
    ref = outbox_keys.open_held(row, message)
    if ref is None:
        _wait_for_reader(row)
        return None
    kind, _sep, file_id = ref.partition(":")
    if kind not in ATTACHMENT_CALLS or not file_id:
        _fail(row, "not a file reference", blocked=False)
        return None
    method, param = ATTACHMENT_CALLS[kind]
    return method, param, file_id


def send_due(
    *,
    budget_seconds: float = 20.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    client_factory: Callable[[], client_module.Client] = client_module.Client,
    renew: Callable[[], bool] | None = None,
) -> int:
    """Send what is due for up to `budget_seconds`; returns how many calls succeeded.
    `renew` extends the caller's lease on the outbox; when it lapsed, sending stops."""
    started = clock()
    renewed = started
    sent = 0
    window: deque[float] = deque()
    outbox_keys.hold()
    with client_factory() as api:
        while clock() - started < budget_seconds:
            if renew is not None and clock() - renewed >= RENEW_EVERY:
                if not renew():
                    break
                renewed = clock()
            now = timezone.now()
            left: list[int] = []
            row = _claim(now, left)
            if row is None:
                if left:
                    # What is due is another worker's to send: give the sender's lease back
                    # at once rather than hold it for the whole budget (that worker could
                    # not send meanwhile); the caller asks again in a moment (tasks).
                    break
                waiting = Outbound.objects.filter(
                    status=Outbound.Status.QUEUED, next_try_at__lte=now + timedelta(seconds=2)
                ).exists()
                if not waiting:
                    break
                sleep(0.2)  # only per-chat spacing holds things back: wait a moment
                continue
            # At most 30 calls answered in any WINDOW_SECONDS (a little over a second), so
            # that Telegram never counts 31 arriving within one.
            while len(window) >= GLOBAL_PER_SECOND and clock() - window[0] < WINDOW_SECONDS:
                sleep(max(0.0, WINDOW_SECONDS - (clock() - window[0])))
            while window and clock() - window[0] >= WINDOW_SECONDS:
                window.popleft()
            params = json.loads(row.params)
            method = row.method
            if row.sealed and method == outbox_keys.ATTACHMENT_METHOD:
                call = _open_sealed_attachment(row)
                if call is None:
                    continue
                method, param, file_id = call
                params[param] = file_id
            elif row.sealed:
                text = _open_sealed_text(row, params)
                if text is None:
                    continue
                params["text"] = text
            if row.channel:
                params.setdefault("chat_id", row.channel)
            elif (row.chat is not None or row.sealed_chat) and "chat_id" not in params:
                target = _chat_id(row)
                if target is None:
                    continue
                params["chat_id"] = target
            try:
                result = api.call(method, params)
            except client_module.Blocked as exc:
                _fail(row, str(exc), blocked=True)
            except client_module.Permanent as exc:
                log.warning("telegram call %s failed for good: %s", row.pk, exc)
                _fail(row, str(exc), blocked=False)
            except client_module.Transient as exc:
                wait = (
                    timedelta(seconds=exc.retry_after)
                    if exc.retry_after is not None
                    else _backoff(row.attempts)
                )
                if row.attempts >= MAX_ATTEMPTS:
                    _fail(row, f"gave up after {row.attempts} attempts: {exc}", blocked=False)
                else:
                    Outbound.objects.filter(pk=row.pk).update(
                        status=Outbound.Status.QUEUED,
                        next_try_at=timezone.now() + wait,
                        error=str(exc)[:200],
                    )
            else:
                _finish(row, now=timezone.now(), result=result)
                sent += 1
            finally:
                # Stamped when the call is answered: a call arrives before its answer, so any
                # 31 calls in a row then arrive at Telegram over more than WINDOW_SECONDS.
                window.append(clock())
            if row.channel:  # twenty a minute per channel: push the channel's next rows back
                later = timezone.now() + CHANNEL_SPACING
                Outbound.objects.filter(
                    channel=row.channel, status=Outbound.Status.QUEUED, next_try_at__lt=later
                ).update(next_try_at=later)
    return sent

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import salted_hmac
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.exceptions import TaskLockedException

from krov.core import leases
from krov.telegram import client, intake, outbox, outbox_keys, services

# How long a worker's claim on a chat or on the outbox lasts if the worker dies holding it
# (a lease, krov.core.leases: Huey's own lock never expires on Redis before 7.4).
CHAT_LEASE_SECONDS = 120
OUTBOX_LEASE_SECONDS = 20  # the sender renews it every few seconds while it sends
OTHERS_RETRY_SECONDS = 2  # rows due that only another running worker can send: ask again
# How long one sweep drains a backlog of updates whose nudges were lost (the queue lost, a
# worker down): less than the minute between sweeps, so they rarely overlap.
SWEEP_SECONDS = 45
# How old a pending update must be for the sweep to take it (its nudge had its chance).
SWEEP_AFTER_SECONDS = 30
SWEEP_PAGE = 500  # chats read at a time

log = logging.getLogger(__name__)


class UpdateFailed(RuntimeError):
    """An update of the chat failed: intake logged where (never the chat), Huey retries.
    The error itself is not passed on: its message may name the chat (a database's
    constraint error quotes the row's key)."""


def chat_lease(key: str) -> str:
    """The name of a chat's lease in the cache: a keyed hash of its lookup key, under
    KROV_SECRET_KEY, which neither the cache nor the database holds. Whoever images the
    cache sees that some chat was being processed, not which one, and cannot tie the entry
    to a chat row. The nudge's task and the sweep name a chat's lease here, and only here."""
    digest = salted_hmac("krov.telegram.chat-lease", key, algorithm="sha256").hexdigest()
    return f"telegram-chat-{digest[:32]}"


@db_task(retries=5, retry_delay=2)
def process_chat(update_id: int | str) -> int:
    """The pending updates of the chat `update_id` belongs to, in order (this one and those
    after it: the webhook nudges only the first of a chat's waiting updates); one worker per
    chat at a time. The queue carries the update's id, never the chat's key: the worker
    reads the chat from the update's row."""
    if isinstance(update_id, str):
        # Queued by an older version, which named the chat's lookup key: queued again, once,
        # by the chat's first pending update (if any is left), so that nothing is lost and
        # no retry carries the key back into the queue. Only for the queue an upgrade finds.
        intake.nudge(update_id)
        return 0
    key = intake.pending_chat_of(update_id)
    if key is None:
        return 0  # a nudge after the one (or the sweep) that took these updates
    try:
        with leases.lease(chat_lease(key), CHAT_LEASE_SECONDS):
            return intake.process_chat(key)
    except leases.Taken:
        # Another worker holds this chat; if it finished before our update was visible,
        # the retry (or the sweep) picks it up.
        raise TaskLockedException("another worker holds this chat") from None
    except Exception as error:
        raise UpdateFailed(type(error).__name__) from None


@HUEY.on_startup()
def announce_outbox_key() -> None:
    """A starting worker makes its outbox key at once, so answers are sealed to it."""
    from django.db import close_old_connections

    close_old_connections()
    outbox_keys.hold()
    send_outbox()  # what a worker killed mid-send left goes on as soon as its lease lapses


@HUEY.on_shutdown()
def drop_outbox_key() -> None:
    outbox_keys.forget()


@db_task(retries=3, retry_delay=5)
def send_outbox() -> int:
    if not client.configured():
        return 0
    try:
        with leases.lease("telegram-outbox", OUTBOX_LEASE_SECONDS) as held:
            sent = outbox.send_due(renew=held.renew)
    except leases.Taken:
        # The running sender sends what we would have sent. If it died holding the lease,
        # one retry after the lease has lapsed takes over (once per lease, not per nudge).
        if cache.add("telegram-outbox-retry", 1, timeout=OUTBOX_LEASE_SECONDS):
            send_outbox.schedule(delay=OUTBOX_LEASE_SECONDS + 1)
        return 0
    if sent and outbox.due_now():
        send_outbox()  # its time ran out with rows still due: a backlog goes on at once
    else:
        _wake_for(outbox.next_due())
    return sent


def _wake_for(when) -> None:
    """Send again when the next row falls due (a retry after back-off, a row a dead worker
    left "sending"), if that is sooner than the minute's sweep; once per wait, not per call.
    A row due already that this worker left is another running worker's (its chat id or
    text is sealed to that worker): ask again in a moment, and whichever worker takes the
    task sends what it can; a worker that cannot gives the lease back at once."""
    if when is None:
        return
    delay = (when - timezone.now()).total_seconds() + 0.5
    if delay <= 0.5:
        delay = OTHERS_RETRY_SECONDS
    if 0 < delay <= 60 and cache.add("telegram-outbox-wake", 1, timeout=max(1, int(delay))):
        send_outbox.schedule(delay=delay)


@db_periodic_task(crontab(minute="*"))
def sweep() -> None:
    """The database is the truth, the queue a nudge: pick up whatever a lost nudge or a
    crashed worker left (pending updates, queued or stuck outbound calls)."""
    outbox_keys.hold()  # the heartbeat: this worker still holds its key
    outbox_keys.retire_stale()
    drain()
    send_outbox()


def drain(
    budget_seconds: float = SWEEP_SECONDS, older_than_seconds: int = SWEEP_AFTER_SECONDS
) -> int:
    """Process, here and now, every chat with updates pending for longer than
    `older_than_seconds`, page after page, until none is left or the budget is spent;
    returns how many updates were processed. A backlog whose nudges were lost (10,000
    updates after Redis lost its queue) drains at the worker's own pace, not one page of
    chats a minute, and nothing is queued again (a nudge still queued finds nothing left).

    Each chat under its lease, as `process_chat` takes it: a chat another worker holds is
    skipped (that worker processes its updates), so two sweeps, or a sweep and a nudge,
    never handle an update twice. A chat whose update fails is left to the next sweep (the
    update counts the attempt, and is parked after the last)."""
    deadline = time.monotonic() + budget_seconds
    done = 0
    failed: set[str] = set()
    while True:
        progressed = False
        after = ""
        while keys := intake.pending_chats(older_than_seconds, after=after, limit=SWEEP_PAGE):
            for key in keys:
                if time.monotonic() >= deadline:
                    return done
                if key in failed:
                    continue
                try:
                    with leases.lease(chat_lease(key), CHAT_LEASE_SECONDS):
                        count = intake.process_chat(key)
                except leases.Taken:
                    continue
                except Exception as error:  # noqa: BLE001 - the next sweep tries again
                    log.warning("telegram chat left to the next sweep (%s)", type(error).__name__)
                    failed.add(key)
                    continue
                done += count
                progressed = progressed or count > 0
            after = keys[-1]
        if not progressed:  # a whole pass found only chats other workers hold, or none
            return done


@db_periodic_task(crontab(minute="23"))
def housekeeping() -> None:
    services.purge_old()

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.exceptions import TaskLockedException

from krov.core import leases
from krov.telegram import client, intake, outbox, outbox_keys, services

# How long a worker's claim on a chat or on the outbox lasts if the worker dies holding it
# (a lease, krov.core.leases: Huey's own lock never expires on Redis before 7.4).
CHAT_LEASE_SECONDS = 120
OUTBOX_LEASE_SECONDS = 20  # the sender renews it every few seconds while it sends


@db_task(retries=5, retry_delay=2)
def process_chat(key: str) -> int:
    """One chat's pending updates, in order; one worker per chat at a time."""
    try:
        with leases.lease(f"telegram-chat-{key}", CHAT_LEASE_SECONDS):
            return intake.process_chat(key)
    except leases.Taken:
        # Another worker holds this chat; if it finished before our update was visible,
        # the retry (or the sweep) picks it up.
        raise TaskLockedException("another worker holds this chat") from None


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
    left "sending"), if that is sooner than the minute's sweep; once per wait, not per call."""
    if when is None:
        return
    delay = (when - timezone.now()).total_seconds() + 0.5
    if 0 < delay <= 60 and cache.add("telegram-outbox-wake", 1, timeout=max(1, int(delay))):
        send_outbox.schedule(delay=delay)


@db_periodic_task(crontab(minute="*"))
def sweep() -> None:
    """The database is the truth, the queue a nudge: pick up whatever a lost nudge or a
    crashed worker left (pending updates, queued or stuck outbound calls)."""
    for key in intake.pending_chats():
        process_chat(key)
    outbox_keys.hold()  # the heartbeat: this worker still holds its key
    outbox_keys.retire_stale()
    send_outbox()


@db_periodic_task(crontab(minute="23"))
def housekeeping() -> None:
    services.purge_old()

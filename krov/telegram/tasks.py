from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.exceptions import TaskLockedException

from krov.telegram import client, intake, outbox, outbox_keys, services


@db_task(retries=5, retry_delay=2)
def process_chat(key: str) -> int:
    """One chat's pending updates, in order; one worker per chat at a time."""
    try:
        with HUEY.lock_task(f"telegram-chat-{key}"):
            return intake.process_chat(key)
    except TaskLockedException:
        # Another worker holds this chat; if it finished before our update was visible,
        # the retry (or the sweep) picks it up.
        raise


@HUEY.on_startup()
def announce_outbox_key() -> None:
    """A starting worker makes its outbox key at once, so answers are sealed to it."""
    from django.db import close_old_connections

    close_old_connections()
    outbox_keys.hold()


@HUEY.on_shutdown()
def drop_outbox_key() -> None:
    outbox_keys.forget()


@db_task(retries=3, retry_delay=5)
def send_outbox() -> int:
    if not client.configured():
        return 0
    try:
        with HUEY.lock_task("telegram-outbox"):
            return outbox.send_due()
    except TaskLockedException:
        return 0  # the running sender sends what we would have sent


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
